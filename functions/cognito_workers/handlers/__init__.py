"""One Lambda handler module per catalog action, each built from cognito_workers.worker."""

# Imported before anything imports pydantic: Powertools' batch utility then skips importing its parser models,
# which it needs only for type aliases (aws_lambda_powertools/utilities/batch/types.py). About 40 ms of every
# cold start on the benchmark machine (python -m benchmarks.cold_start).
import aws_lambda_powertools.utilities.batch  # noqa: F401
