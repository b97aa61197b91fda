"""The doit side: task creators that translate plans, the content checker, doit's state
backend, the status board and the CPU budget.
"""
