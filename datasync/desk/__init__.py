"""The support desk: threads as work items (status, assignment, labels, notes), one queue across a
team's accounts, collision warnings, canned replies and reports. Built on the IM app and the sync core;
neither knows it exists."""
