"""A public body's own statistics for its administrators: the bookings it made, counted as the country's are."""

from flask_login import current_user

from ..access import roles
from ..statistics_page import BOOKING_TABLES, csv_download, page
from .views import bp


@bp.get("/statistics")
@roles("agency_admin")
def statistics():
    agency = current_user.agency
    return page("agency/statistics.html", BOOKING_TABLES, agency_id=agency.id, agency=agency)


@bp.get("/statistics/<key>.csv")
@roles("agency_admin")
def statistics_csv(key: str):
    return csv_download(key, BOOKING_TABLES, agency_id=current_user.agency_id)
