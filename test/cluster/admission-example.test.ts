/**
 * Groups 1 and 2 for the example app (example/main.ts): every manifest is
 * admitted without warnings, its pods run, and nothing is lost on the way in.
 */
import { admissionSuite } from './support/admission';
import { synthExample } from './support/matrix';

admissionSuite('example app (example/main.ts)', synthExample);
