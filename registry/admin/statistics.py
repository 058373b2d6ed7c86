"""The country's statistics for the registry administrators: every table, the register's included."""

from ..access import roles
from ..statistics_page import BOOKING_TABLES, REGISTER_TABLES, csv_download, page
from .views import bp

TABLES = BOOKING_TABLES + REGISTER_TABLES


@bp.get("/statistics")
@roles("registry_admin")
def statistics():
    return page("admin/statistics.html", TABLES)


@bp.get("/statistics/<key>.csv")
@roles("registry_admin")
def statistics_csv(key: str):
    return csv_download(key, TABLES)
