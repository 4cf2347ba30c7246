"""Admin changelists whose cost does not grow with the table (issue 15). Imports no app.

Every ModelAdmin of the portal takes `ListAtScaleMixin` (through AuditedAdminMixin or directly):
short pages; no second COUNT(*) for "N total" beside the filtered count; a paginator that, on
PostgreSQL, takes the planner's row estimate instead of counting a large table that the list does
not filter (an exact COUNT(*) reads the whole table), in the one query the count costs anyway; and
the row checkbox written directly instead of rendering a form widget per row (profiled: more than
half the time of a row). Filtered lists and small tables are counted exactly. For list filters over
large tables: `IndexedValuesListFilter` (an indexed column's values by loose index scan) and
`year_filter` (years from the first and last value), where Django's read every row. What remains
for each admin: `list_select_related` for the columns it shows, no per-row queries, and an index for
its default ordering.
"""

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

# Below this many rows (by the estimate) a table is counted exactly: COUNT(*) is cheap there.
ESTIMATE_FROM_ROWS = 20_000


def table_rows(model, using: str = "default") -> int | None:
    """The rows of `model`'s whole table on PostgreSQL, in one query: the planner's estimate when it
    says ESTIMATE_FROM_ROWS or more, an exact COUNT(*) otherwise (or when the table was never
    analysed). None on other databases."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint ELSE (SELECT COUNT(*) FROM {table}) END "  # noqa: S608 (a table name from the model)
            "FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_FROM_ROWS, model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except an unfiltered list over a large PostgreSQL table, whose count is the
    planner's estimate (pages past the real end are then empty, which the admin shows as such)."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and not query.distinct and not query.combinator:
            rows = table_rows(queryset.model, queryset.db)
            if rows is not None:
                return rows
        return super().count


def distinct_values(queryset, field: str) -> list:
    """The distinct values of an indexed column, in order. On PostgreSQL a loose index scan (one
    index probe per value, the PostgreSQL wiki's recursive query) instead of reading every row;
    elsewhere DISTINCT."""
    model = queryset.model
    connection = connections[queryset.db]
    column = model._meta.get_field(field).column
    if connection.vendor != "postgresql":
        return list(queryset.order_by(field).values_list(field, flat=True).distinct())
    table, col = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(column)
    sql = (
        f"WITH RECURSIVE v AS (SELECT MIN({col}) AS value FROM {table} UNION ALL "  # noqa: S608 (names from the model)
        f"SELECT (SELECT MIN({col}) FROM {table} WHERE {col} > v.value) FROM v WHERE v.value IS NOT NULL) "
        "SELECT value FROM v WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class IndexedValuesListFilter(admin.AllValuesFieldListFilter):
    """Django's "all values" filter, its values found through the column's index (distinct_values)
    instead of a DISTINCT over the whole table. For an indexed column of a large table, unfiltered."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = distinct_values(model._default_manager.all(), field_path)


def year_filter(field: str, title: str = "year") -> type[admin.SimpleListFilter]:
    """A list filter by calendar year of `field`, the years from its first to its last value (two
    index probes), where the date hierarchy reads every row for its distinct years."""

    class YearListFilter(admin.SimpleListFilter):
        parameter_name = f"{field}_year"

        def lookups(self, request, model_admin):
            span = model_admin.model._default_manager.aggregate(first=Min(field), last=Max(field))
            if span["first"] is None:
                return []
            return [(str(y), str(y)) for y in range(span["last"].year, span["first"].year - 1, -1)]

        def queryset(self, request, queryset):
            return queryset.filter(**{f"{field}__year": int(self.value())}) if self.value() else queryset

    YearListFilter.title = title
    return YearListFilter


class ListAtScaleMixin:
    # Pages of 25 as on the portal's own pages (consortium/common/pagination.py): rendering a row
    # costs about what the rest of the page does for five, so a full page stays within twice a
    # nearly empty one.
    list_per_page = 25
    list_max_show_all = 500
    show_full_result_count = False  # "N total" would be a second COUNT(*) over the whole table
    paginator = EstimatedCountPaginator

    def action_checkbox(self, obj):
        # What Django's CheckboxInput renders, without a template render per row.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            _("Select this object for an action - {}").format(obj),
        )
