# shellcheck shell=sh
# field: one value of a CLUSTER INFO reply.

# field NAME TEXT: the value of the NAME:value line of TEXT (CLUSTER INFO format).
field() {
  printf '%s\n' "$2" | while IFS=: read -r _f_key _f_value; do
    if [ "$_f_key" = "$1" ]; then
      printf '%s\n' "$_f_value"
      break
    fi
  done
}
