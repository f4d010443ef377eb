"""Exit codes, in one place (returns.md, Outputs)."""

OK = 0  # no errors
FINDINGS = 1  # errors in the returns (or warnings under --strict, failed targets under --fail-on-target)
USAGE = 2  # bad command line or bad config
