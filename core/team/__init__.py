"""Working as a team on one project: label quality across annotators and over time (agreement,
review queues, label-error triage)."""
