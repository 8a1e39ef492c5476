"""Allocation: where next week's money and hours should go. types (inputs, plans, settings),
model (the numbers: response and win models), guardrails, plans (candidate shares), words
(sentences from the numbers), recommend (the one entry point), decisions (the decision log)."""
