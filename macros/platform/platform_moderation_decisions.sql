{#-
  platform_moderation_decisions(history)
  Select of the moderation_decision events of a set of flags, each classified
  (seed 004 moderation; DECISIONLOG "Moderation KPIs"). `history` names a CTE
  (or relation) holding EVERY moderation event of those flags: event_id,
  event_type, entity_id (the flag), occurred_at, status.
    * initial decision: the flag's first moderation_decision (occurred_at, then
      event_id); its latency is the time since the flag's first content_flagged
      (null when that is unknown or later than the decision);
    * appeal review: the first later decision that follows the flag's first
      appeal_submitted; overturned when its status differs from the initial
      decision's (a removal reinstated, or an approval reversed);
    * any other decision (a re-decision without an appeal): decision_kind null.
  Columns: event_id, flag_id, decided_at, decision_kind (initial | appeal_review
  | null), status, decision_latency_seconds (initial only), is_overturned
  (appeal reviews only).
-#}
{% macro platform_moderation_decisions(history) -%}
    select
        ranked.event_id,
        ranked.flag_id,
        ranked.decided_at,
        case
            when ranked.decision_number = 1 then 'initial'
            when ranked.review_number = 1 then 'appeal_review'
        end as decision_kind,
        ranked.status,
        case
            when ranked.decision_number = 1 and ranked.flagged_at <= ranked.decided_at
                then {{ dbt.datediff('ranked.flagged_at', 'ranked.decided_at', 'second') }}
        end as decision_latency_seconds,
        case
            when ranked.decision_number > 1 and ranked.review_number = 1
                then ranked.status <> ranked.initial_status
        end as is_overturned
    from (
        select
            numbered.event_id,
            numbered.flag_id,
            numbered.decided_at,
            numbered.status,
            numbered.flagged_at,
            numbered.decision_number,
            numbered.initial_status,
            case
                when numbered.decision_number > 1 and numbered.decided_at > numbered.first_appealed_at
                    then row_number() over (
                        partition by
                            numbered.flag_id,
                            numbered.decision_number > 1 and numbered.decided_at > numbered.first_appealed_at
                        order by numbered.decided_at, numbered.event_id
                    )
            end as review_number
        from (
            select
                decisions.event_id,
                decisions.entity_id as flag_id,
                decisions.occurred_at as decided_at,
                decisions.status,
                flags.flagged_at,
                flags.first_appealed_at,
                row_number() over (
                    partition by decisions.entity_id order by decisions.occurred_at, decisions.event_id
                ) as decision_number,
                first_value(decisions.status) over (
                    partition by decisions.entity_id order by decisions.occurred_at, decisions.event_id
                ) as initial_status
            from {{ history }} as decisions
            inner join (
                select
                    entity_id,
                    min(case when event_type = 'content_flagged' then occurred_at end) as flagged_at,
                    min(case when event_type = 'appeal_submitted' then occurred_at end) as first_appealed_at
                from {{ history }}
                group by entity_id
            ) as flags
                on decisions.entity_id = flags.entity_id
            where decisions.event_type = 'moderation_decision'
        ) as numbered
    ) as ranked
{%- endmacro %}
