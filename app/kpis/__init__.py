"""The town's KPIs: what each counts (registry, measures), the board, the score sheet and the
monthly snapshots. Features register their own KPIs (referral/, wearables/, telecall/)."""
