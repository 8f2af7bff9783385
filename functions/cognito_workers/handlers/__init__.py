"""One Lambda handler module per catalog action, each built from cognito_workers.worker."""
