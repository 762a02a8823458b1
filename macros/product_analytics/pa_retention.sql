{#-
  pa_retention(name, periods, cohort_grains, entity='user_id')
  The declared retention `name` (normalised by pa_definitions), for a mart that is one
  instance of it with columns per period (metrics_cohort_retention is
  `platform_first_activity`: first activity of a user, back on day N). The entry must
  be an activity retention (start and return `any`, period_unit day, no breakdown) on
  `entity`, with exactly these periods and cohort grains (the mart's columns and rows
  are named after them): else one line naming the entry. Returns the entry (none while
  dbt parses a block without it; a missing entry fails when the model runs).
-#}
{% macro pa_retention(name, periods, cohort_grains, entity='user_id') -%}
    {%- set label = 'product_analytics.retentions[' ~ name ~ ']' -%}
    {%- for r in pa_definitions().retentions -%}
        {%- if r.name == name -%}
            {%- if not (r.start.any and r['return'].any) or r.period_unit != 'day' or r.breakdown is not none -%}
                {{ pa_fail(label, model.name ~ " needs start and return 'any', period_unit day and no breakdown") }}
            {%- endif -%}
            {%- if r.entity != entity -%}
                {{ pa_fail(label ~ '.entity', model.name ~ ' needs entity ' ~ entity) }}
            {%- endif -%}
            {%- if r.periods != periods | sort | list -%}
                {{ pa_fail(label ~ '.periods', model.name ~ ' needs the periods ' ~ periods | join(', ')) }}
            {%- endif -%}
            {%- if r.cohort_grains | sort | list != cohort_grains | sort | list -%}
                {{ pa_fail(label ~ '.cohort_grain', model.name ~ ' needs the cohort grains ' ~ cohort_grains | join(', ')) }}
            {%- endif -%}
            {{ return(r) }}
        {%- endif -%}
    {%- endfor -%}
    {#- a block without the entry still parses; only building this model fails -#}
    {%- if execute -%}
        {{ pa_fail(label, 'missing: ' ~ model.name ~ ' is an instance of it') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
