"""The CDK stack of the Cognito lifecycle workers, generated from the action catalog."""
