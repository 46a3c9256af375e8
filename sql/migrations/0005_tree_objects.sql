-- 0005_tree_objects: file trees as content-addressed directory objects, and
-- the shell state an environment keeps between command lines.
--
-- Until now an environment's tree was one JSON manifest blob listing every
-- path, so a command changing one file in a directory of 9,000 stored ~1 MB.
-- From here on a tree is stored as objects (format `PGT1`, ARCHITECTURE.md
-- "Tree objects", src/env/objects.rs): a directory lists its entries, a large
-- directory is cut into content-defined chunks joined by index nodes, every
-- object addressed by the sha256 of its bytes. A change stores only the
-- objects on its path; environments share every unchanged subtree.
--
-- Existing environments are left exactly as they are: their digests cover
-- the manifest's digest, audit rows and commands refer to those digests, and
-- the executor still loads them (`tree` set, `root` null). They are never
-- rewritten; the first environment a session derives from one is stored as
-- objects.

create table pgshell.tree_objects (
    digest     bytea primary key,                 -- sha256(data)
    data       bytea not null,                    -- a leaf (entries) or a node (chunks), format PGT1
    created_at timestamptz not null default now(),
    constraint tree_objects_digest_len check (length(digest) = 32),
    constraint tree_objects_digest_matches check (digest = sha256(data)),
    constraint tree_objects_format check (substring(data from 1 for 4) = '\x50475431'::bytea) -- 'PGT1'
);
comment on table pgshell.tree_objects is
    'Directory objects of file trees (format PGT1, see ARCHITECTURE.md), addressed by sha256(data). '
    'Immutable; shared by every environment whose tree holds them.';
comment on column pgshell.tree_objects.data is
    'A leaf listing directory entries (name, kind, mode, mtime, size, digest of the file blob or child '
    'directory object, symlink target) or a node joining the chunks of a large directory.';

alter table pgshell.environments
    alter column tree drop not null,
    add column root bytea constraint environments_root_fkey references pgshell.tree_objects (digest),
    add column shell jsonb not null default '{}',
    add constraint environments_one_tree check ((tree is null) <> (root is null)),
    add constraint environments_shell_object check (jsonb_typeof(shell) = 'object');
comment on column pgshell.environments.tree is
    'Environments stored before migration 0004 only: the manifest blob (JSON of every path); null for newer ones.';
comment on column pgshell.environments.root is
    'The root directory object of the file tree (pgshell.tree_objects); null for environments stored before 0004.';
comment on column pgshell.environments.shell is
    'Shell state kept between command lines besides cwd and exported variables: {"vars": {..} (not exported), '
    '"functions": {name: definition}, "options": [..]}; {} when empty. Part of the digest only when not empty.';
comment on column pgshell.environments.digest is
    'sha256 of the canonical JSON {"cwd","root","shell" (when not empty),"vars"} computed by the executor '
    '(src/env.rs); {"cwd","tree","vars"} with the manifest digest for environments stored before 0004.';

-- pgshell.complete_command (0006) stores environments with their tree
-- objects; nothing before it needs to.

-- 0002's checks, plus: every tree object matches its digest. (The check
-- constraint refuses a wrong object on insert; an edit by someone able to
-- drop it is what this finds.)
create or replace function pgshell.audit_problems(p_limit int default 100)
returns table (audit_id bigint, chain text, seq bigint, problem text)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
with rows as (
    select a.*,
           lag(a.hash) over w as expected_prev,
           lag(a.seq) over w as prev_seq,
           pgshell.audit_row_hash(a.id, a.chain, a.seq, a.at, a.actor, a.event, a.session_id,
                                  a.command_id, a.details, a.prev_hash) as recomputed
    from pgshell.audit_log a
    window w as (partition by a.chain order by a.seq)
), problems as (
    select id, chain, seq, 'row content does not match its hash (altered)' as problem from rows
    where recomputed <> hash
    union all
    select id, chain, seq, format('row %s of chain %s follows row %s: rows are missing or reordered',
                                  seq, chain, coalesce(prev_seq, 0)) from rows
    where seq <> coalesce(prev_seq, 0) + 1
    union all
    select id, chain, seq, 'link to the previous row is broken (a row was altered, removed or reordered)' from rows
    where prev_hash <> coalesce(expected_prev, '\x'::bytea) and seq = coalesce(prev_seq, 0) + 1
    union all
    select null, h.chain, h.seq, format('chain %s ends at row %s but its head says %s: rows were removed',
                                        h.chain, coalesce(m.max_seq, 0), h.seq)
    from pgshell.audit_heads h
    left join (select r.chain, max(r.seq) max_seq from rows r group by r.chain) m on m.chain = h.chain
    where coalesce(m.max_seq, 0) <> h.seq
    union all
    select r.id, r.chain, r.seq,
           format('anchor records row %s of chain %s, which is missing or differs', x.value ->> 'seq', x.key)
    from rows r cross join lateral jsonb_each(r.details -> 'heads') x
    where r.event = 'audit.anchor' and not exists (
        select 1 from pgshell.audit_log t
        where t.chain = x.key and t.seq = (x.value ->> 'seq')::bigint and encode(t.hash, 'hex') = x.value ->> 'hash')
    union all
    select r.id, r.chain, r.seq, format('stored result of command %s differs from its completion record', r.command_id)
    from rows r left join pgshell.commands c on c.id = r.command_id
    where r.event = 'command.completed' and r.details ? 'stdout_sha256' and (
        c.id is null
        or encode(sha256(coalesce(c.stdout, '')), 'hex') is distinct from r.details ->> 'stdout_sha256'
        or encode(sha256(coalesce(c.stderr, '')), 'hex') is distinct from r.details ->> 'stderr_sha256'
        or c.exit_code is distinct from (r.details ->> 'exit_code')::int
        or c.outcome::text is distinct from r.details ->> 'outcome'
        or encode(c.env_after, 'hex') is distinct from r.details ->> 'env_after'
        or encode(c.env_before, 'hex') is distinct from r.details ->> 'env_before')
    union all
    select null, null, null, format('blob %s does not match its digest (file contents altered)', encode(b.digest, 'hex'))
    from pgshell.blobs b where sha256(b.data) <> b.digest
    union all
    select null, null, null, format('tree object %s does not match its digest (directory listing altered)',
                                    encode(t.digest, 'hex'))
    from pgshell.tree_objects t where sha256(t.data) <> t.digest
)
select p.id, p.chain, p.seq, p.problem from problems p order by p.id nulls last, p.chain, p.seq limit p_limit
$$;

-- Executors read tree objects (to load environments) and write them only
-- through pgshell.complete_command; end users never read them directly.
revoke all on pgshell.tree_objects from public;
grant select on pgshell.tree_objects to pgshell_executor;
