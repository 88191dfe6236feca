import { specifySimulation } from '../../sim/spec';

// Part 1 of 2 of the 10,000 lifecycles npm test simulates.
specifySimulation(1_000_003, 5000);
