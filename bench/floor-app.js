'use strict';
// The cold-start floor: the least a cdk8s-plus-28 app can do (require it, synthesize one trivial chart).
// Writes to CDK8S_OUTDIR like any cdk8s app.
const { App, Chart } = require('cdk8s');
const { k8s } = require('cdk8s-plus-28');

const app = new App();
const chart = new Chart(app, 'floor');
new k8s.KubeConfigMap(chart, 'Config', { metadata: { name: 'floor' }, data: { greeting: 'hello' } });
app.synth();
