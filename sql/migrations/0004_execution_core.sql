-- Execution core v2 (issue 7): one deterministic budget per command line.
--
-- A line's time limit (timeout_ms, capped by the executor's COMMAND_TIMEOUT)
-- is counted in fuel at fuel_per_second: guest instructions, host work
-- (a fixed charge per call and per byte moved) and sleeps at their
-- requested length. So a CPU-bound line ends as `timeout` near its limit
-- and replays identically. `fuel` stays as an optional extra cap (0: none);
-- the old default of 50e9 made CPU-bound lines end as `fuel_exhausted`
-- before the time limit, so it is reset unless an operator changed it.

update pgshell.settings
   set value = '0',
       description = 'optional cap on a line''s fuel besides its time budget (0: none)'
 where name = 'fuel' and value = '50000000000'::jsonb;

insert into pgshell.settings (name, value, description) values
    ('fuel_per_second', '8000000000',
     'fuel that stands for one second of a line''s time budget (calibrated: cargo test --test it core::calibrate -- --ignored --nocapture); recorded with each command')
on conflict (name) do nothing;
