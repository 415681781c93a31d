// The worker's workflow entry point: one export per workflow type.
export { promotionWorkflow } from './promotion-workflow';
export { rollbackWorkflow } from './rollback-workflow';
export { environmentWorkflow } from './environment-workflow';
