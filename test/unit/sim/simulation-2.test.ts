import { specifySimulation } from '../../sim/spec';

// Part 2 of 2 of the 10,000 lifecycles npm test simulates.
specifySimulation(2_000_003, 5000);
