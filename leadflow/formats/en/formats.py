# One absolute format per kind in English (Django's own differ page to page: "Nov. 23, 2026,
# 8:09 a.m.", "11/30/2026 2:26 a.m."). Times are in the reader's time zone (accounts.middleware).
DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "M j, Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "M j"
