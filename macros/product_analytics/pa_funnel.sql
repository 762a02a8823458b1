{#-
  pa_funnel(name, step_names=none, entity=none)
  The declared funnel `name` (normalised by pa_definitions), for a mart that is one
  instance of it (fct_onboarding_funnel is `pilot_onboarding` per merchant). With
  step_names, the entry must declare exactly these steps, in order (the mart's columns
  are named after them), and be ordered (and have `entity`, when given): else one line
  naming the entry. A missing entry fails when the model runs, not while dbt parses.
-#}
{% macro pa_funnel(name, step_names=none, entity=none) -%}
    {%- set label = 'product_analytics.funnels[' ~ name ~ ']' -%}
    {%- for f in pa_definitions().funnels -%}
        {%- if f.name == name -%}
            {%- if step_names is not none and f.steps | map(attribute='name') | list != step_names -%}
                {{ pa_fail(label ~ '.steps', model.name ~ ' needs the steps ' ~ step_names | join(', ') ~ ' in this order') }}
            {%- endif -%}
            {%- if f.ordering == 'unordered' or f.exclude or f.breakdown -%}
                {{ pa_fail(label, model.name ~ ' needs an ordered funnel without exclude or breakdown') }}
            {%- endif -%}
            {%- if entity is not none and f.entity != entity -%}
                {{ pa_fail(label ~ '.entity', model.name ~ ' needs entity ' ~ entity) }}
            {%- endif -%}
            {{ return(f) }}
        {%- endif -%}
    {%- endfor -%}
    {#- a block without the entry (e.g. `kpi build --select fct_funnel_steps --vars ...`) still
        parses; only building this model fails -#}
    {%- if execute -%}
        {{ pa_fail(label, 'missing: ' ~ model.name ~ ' is an instance of it') }}
    {%- endif -%}
    {%- set steps = [] -%}
    {%- for step_name in step_names or ['step_1', 'step_2'] -%}
        {%- do steps.append({'name': step_name, 'condition': '(1 = 0)'}) -%}
    {%- endfor -%}
    {{ return({'name': name, 'kind': 'funnel', 'entity': entity or 'user_id', 'steps': steps,
        'ordering': 'same_instant', 'window_days': none, 'exclude': none, 'breakdown': none,
        'columns': []}) }}
{%- endmacro %}
