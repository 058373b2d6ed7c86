"""The interpreter's assignments: requests and open offers, calendar, time reports."""
