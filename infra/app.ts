import { createJobfleetApp } from './jobfleet-app';

/** `npx cdk synth|deploy` runs this (cdk.json "app"). */
createJobfleetApp();
