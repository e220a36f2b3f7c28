"""The office simulator: what truly happened (who came, when they went to lunch, who left early,
who was absent or on leave: `staff_days`, the ground truth) and what the scanners heard of it
(the radio, the scanners publishing, the spoofing scenarios), so that the gateway's decisions can
be scored against the truth."""
