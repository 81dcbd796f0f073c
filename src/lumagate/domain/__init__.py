"""The domain: task model, states, requests, sizes and policies. Plain Python, no I/O."""
