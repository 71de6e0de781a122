"""backtesting.py's behavioural test scenarios, re-created and run in both engines."""
