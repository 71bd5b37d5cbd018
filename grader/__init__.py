"""dl-grader: grades deep-learning exercise sheets in a sandbox."""

# Also in pyproject.toml (a test keeps them equal); reports and student kits carry it,
# and reading it from the installed metadata costs a tenth of a grading run.
__version__ = "0.1.0"
