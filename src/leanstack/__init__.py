"""leanstack: price an AWS Terraform stack, find the savings its recorded load supports,
prove them by replaying that load, and write the plan and the Terraform patch."""

__version__ = "0.1.0"

__all__ = ["__version__"]
