"""Private iCal feeds and .ics downloads."""
