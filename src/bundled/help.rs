//! What `help` says about the shipped programs: a category and a one-line
//! summary for the list, and a manual-style usage text for `help NAME`.
//!
//! Every program of [`super::COREUTILS`] and [`super::TEXTUTILS`] has an
//! entry (a unit test checks it), and every entry is a shipped program. The
//! usage texts describe the bundled builds, including what they cannot do
//! in pg_shell (start processes, most notably).

/// The categories, in the order `help` lists them: (key, heading).
pub const CATEGORIES: &[(&str, &str)] = &[
    ("files", "Files and directories"),
    ("text", "Text processing"),
    ("search", "Searching"),
    ("compare", "Comparing files"),
    ("archive", "Archives and compression"),
    ("data", "Data, checksums and encodings"),
    ("system", "System and environment"),
];

struct Entry {
    name: &'static str,
    category: &'static str,
    summary: &'static str,
    usage: &'static str,
}

/// A shipped program's category (a key of [`CATEGORIES`]) and one-line
/// summary; `None` for anything else (builtins, registered modules, native
/// programs).
pub fn describe(program: &str) -> Option<(&'static str, &'static str)> {
    entry(program).map(|e| (e.category, e.summary))
}

/// A shipped program's usage text (synopsis, what it does, the main
/// options), ending in a newline.
pub fn usage(program: &str) -> Option<&'static str> {
    entry(program).map(|e| e.usage)
}

/// The shipped programs of one category, sorted by name.
pub fn programs_in(category: &str) -> impl Iterator<Item = &'static str> + '_ {
    ENTRIES.iter().filter(move |e| e.category == category).map(|e| e.name)
}

fn entry(program: &str) -> Option<&'static Entry> {
    ENTRIES.binary_search_by(|e| e.name.cmp(program)).ok().map(|i| &ENTRIES[i])
}

macro_rules! entries {
    ($($name:literal $cat:literal $summary:literal $usage:literal;)*) => {
        &[$(Entry { name: $name, category: $cat, summary: $summary, usage: $usage }),*]
    };
}

/// Sorted by name (byte order).
static ENTRIES: &[Entry] = entries! {
"[" "system" "evaluate a conditional expression (the same as test)"
"Usage: [ EXPRESSION ]
Exit with status 0 if EXPRESSION is true, 1 if false, 2 on error.
See `help test` for the expressions.
";
"arch" "system" "print the machine architecture"
"Usage: arch
Print the machine hardware name.
";
"awk" "text" "pattern scanning and processing language (the one true awk)"
"Usage: awk [-F fs] [-v var=value] [-f progfile | 'prog'] [file ...]
Run an awk program over each line (record) of the files or standard input.
Records are split into fields $1..$NF by FS; `pattern { action }` rules,
BEGIN and END, arrays, functions, printf, getline, sub/gsub/match/split.
  -F fs          field separator (a character or a regular expression)
  -v var=value   assign a variable before the program starts
  -f progfile    read the program from a file (may be repeated)
  --version      print the version
Example: awk -F: '{ n[$1]++ } END { for (k in n) print k, n[k] }' file
In pg_shell: the one true awk (2022-09-12). Pipes (print | \"cmd\",
\"cmd\" | getline) and system() cannot start processes: they fail with a message.
";
"b2sum" "data" "compute and check BLAKE2b checksums"
"Usage: b2sum [OPTION]... [FILE]...
Print or check BLAKE2b (512-bit) checksums.
  -c, --check    read checksums from the files and check them
  -l, --length   digest length in bits
  --tag          BSD-style output
";
"base32" "data" "base32 encode or decode"
"Usage: base32 [OPTION]... [FILE]
Base32 encode or decode FILE, or standard input, to standard output.
  -d, --decode          decode data
  -i, --ignore-garbage  when decoding, ignore non-alphabet characters
  -w, --wrap=COLS       wrap encoded lines after COLS characters (default 76, 0: no wrap)
";
"base64" "data" "base64 encode or decode"
"Usage: base64 [OPTION]... [FILE]
Base64 encode or decode FILE, or standard input, to standard output.
  -d, --decode          decode data
  -i, --ignore-garbage  when decoding, ignore non-alphabet characters
  -w, --wrap=COLS       wrap encoded lines after COLS characters (default 76, 0: no wrap)
";
"basename" "files" "strip directory and suffix from file names"
"Usage: basename NAME [SUFFIX]
       basename OPTION... NAME...
Print NAME with any leading directory components removed, and SUFFIX.
  -a, --multiple       support multiple arguments
  -s, --suffix=SUFFIX  remove a trailing SUFFIX
  -z, --zero           end each output line with NUL
";
"basenc" "data" "encode or decode with one of several encodings"
"Usage: basenc [OPTION]... [FILE]
Encode or decode FILE, or standard input: --base64, --base64url, --base32,
--base32hex, --base16, --base2msbf, --base2lsbf, --z85.
  -d, --decode    decode data
  -w, --wrap=COLS wrap encoded lines after COLS characters
";
"cat" "files" "concatenate files and print them"
"Usage: cat [OPTION]... [FILE]...
Concatenate FILEs (or standard input, for - or none) to standard output.
  -n, --number           number all output lines
  -b, --number-nonblank  number nonempty output lines
  -s, --squeeze-blank    suppress repeated empty output lines
  -A, --show-all         show nonprinting characters, tabs and line ends
";
"cksum" "data" "checksum and count the bytes of files"
"Usage: cksum [OPTION]... [FILE]...
Print the CRC checksum and byte count of each FILE.
  -a, --algorithm=TYPE   sysv, bsd, crc, md5, sha1, sha224, sha256, sha384, sha512, blake2b, sm3
  -c, --check            read checksums from the files and check them
";
"cmp" "compare" "compare two files byte by byte"
"Usage: cmp [OPTION]... FILE1 [FILE2 [SKIP1 [SKIP2]]]
Compare two files byte by byte; print the first difference.
  -b, --print-bytes        print differing bytes
  -i, --ignore-initial=SKIP  skip the first SKIP bytes of both inputs
  -l, --verbose            output byte numbers and differing byte values
  -n, --bytes=LIMIT        compare at most LIMIT bytes
  -s, --quiet, --silent    suppress all normal output
Exit status: 0 the same, 1 different, 2 trouble. (uutils diffutils)
";
"comm" "compare" "compare two sorted files line by line"
"Usage: comm [OPTION]... FILE1 FILE2
Print lines only in FILE1, only in FILE2, and in both, in three columns.
  -1, -2, -3        suppress column 1, 2 or 3
  --check-order     check that the input is correctly sorted
  --output-delimiter=STR  separate columns with STR
";
"cp" "files" "copy files and directories"
"Usage: cp [OPTION]... SOURCE... DIRECTORY
       cp [OPTION]... SOURCE DEST
Copy SOURCE to DEST, or multiple SOURCEs into DIRECTORY.
  -r, -R, --recursive  copy directories recursively
  -a, --archive        recursive, keep links and attributes
  -f, --force          remove a destination that cannot be opened
  -i, --interactive    prompt before overwrite
  -n, --no-clobber     do not overwrite an existing file
  -v, --verbose        explain what is being done
";
"csplit" "text" "split a file into sections determined by context lines"
"Usage: csplit [OPTION]... FILE PATTERN...
Write pieces of FILE separated by PATTERNs (/REGEX/, %REGEX%, LINE, {N})
to files xx00, xx01, ...
  -f, --prefix=PREFIX  use PREFIX instead of xx
  -n, --digits=DIGITS  use DIGITS digits instead of 2
  -s, --quiet          do not print the sizes of the pieces
";
"cut" "text" "remove sections from each line"
"Usage: cut OPTION... [FILE]...
Print selected parts of lines of each FILE.
  -b, --bytes=LIST       select only these bytes
  -c, --characters=LIST  select only these characters
  -f, --fields=LIST      select only these fields
  -d, --delimiter=DELIM  use DELIM instead of TAB for fields
  -s, --only-delimited   do not print lines without delimiters
LIST is ranges such as 1,3-5,7-.
";
"date" "system" "print or format the date and time"
"Usage: date [OPTION]... [+FORMAT]
Display the current time in FORMAT (e.g. +%Y-%m-%d).
  -d, --date=STRING  display the time described by STRING, not now
  -u, --utc          print Coordinated Universal Time
  -I[FMT]            ISO 8601 output
  -R                 RFC 5322 output
In pg_shell the clock is the command's virtual clock (replays see the same time).
";
"diff" "compare" "compare files line by line"
"Usage: diff [OPTION]... FILE1 FILE2
Show the differences between two files (- is standard input).
  -u, -U NUM, --unified[=NUM]  unified format, NUM (default 3) lines of context
  -c, -C NUM, --context[=NUM]  context format
  -e, --ed                     an ed script
  -y, --side-by-side           two columns (-W, --width=NUM)
  --normal                     the normal format (the default)
  -q, --brief                  report only whether the files differ
  -s, --report-identical-files report when two files are the same
  -t, --expand-tabs            expand tabs to spaces (--tabsize=NUM)
Exit status: 0 the same, 1 different, 2 trouble. (uutils diffutils 0.6:
no -r, -i, -w, -b, -B.)
";
"dir" "files" "list directory contents in columns"
"Usage: dir [OPTION]... [FILE]...
The same as ls -C -b. See `help ls`.
";
"dircolors" "system" "print the setup of LS_COLORS"
"Usage: dircolors [OPTION]... [FILE]
Output shell commands that set LS_COLORS.
  -b, --sh   Bourne shell syntax
  -p, --print-database  print the default database
";
"dirname" "files" "strip the last component from file names"
"Usage: dirname [OPTION] NAME...
Print each NAME without its last non-slash component (. when none is left).
  -z, --zero  end each output line with NUL
";
"echo" "text" "print a line of text"
"Usage: echo [-neE] [STRING]...
Print the STRINGs, separated by spaces, and a newline.
  -n  do not print the trailing newline
  -e  interpret backslash escapes (\\n, \\t, \\\\, ...)
  -E  do not interpret them (the default)
";
"egrep" "search" "grep with extended regular expressions (grep -E)"
"Usage: egrep [OPTION]... PATTERNS [FILE]...
The same as grep -E. See `help grep`.
";
"expand" "text" "convert tabs to spaces"
"Usage: expand [OPTION]... [FILE]...
Convert tabs to spaces.
  -i, --initial   do not convert tabs after non-blanks
  -t, --tabs=N    tab stops every N columns (or a LIST)
";
"expr" "data" "evaluate an expression"
"Usage: expr EXPRESSION
Print the value of EXPRESSION: arithmetic (+ - * / %), comparisons,
ARG1 | ARG2, ARG1 & ARG2, STRING : REGEXP, match, substr, index, length.
Exit status 0 if the value is neither null nor 0, 1 if it is, 2 if invalid.
";
"factor" "data" "print the prime factors of numbers"
"Usage: factor [NUMBER]...
Print the prime factors of each NUMBER (or of the numbers on standard input).
";
"false" "system" "do nothing, unsuccessfully"
"Usage: false
Exit with status 1.
";
"fgrep" "search" "grep for fixed strings (grep -F)"
"Usage: fgrep [OPTION]... PATTERNS [FILE]...
The same as grep -F. See `help grep`.
";
"find" "search" "search for files in a directory hierarchy"
"Usage: find [-H] [-L] [-P] [path...] [expression]
Walk each path (default .) and evaluate the expression on every file.
Tests:   -name PAT, -iname PAT, -path PAT, -regex RE, -type [fdl], -size N[ckMG],
         -mtime N, -newer FILE, -empty, -perm MODE, -depth N (-mindepth, -maxdepth)
Actions: -print (default), -print0, -printf FMT, -fprint FILE, -ls, -delete, -prune, -quit
Operators: ( EXPR ), ! EXPR, EXPR -a EXPR, EXPR -o EXPR
Example: find . -name '*.txt' -size +1k
In pg_shell (uutils findutils 0.11): -exec, -execdir, -ok and -okdir are
refused with a message, since a WASI program cannot start processes. xargs
is not available for the same reason.
";
"fmt" "text" "reformat paragraphs"
"Usage: fmt [OPTION]... [FILE]...
Reformat each paragraph of the FILEs, joining and breaking lines.
  -w, --width=WIDTH  maximum line width (default 75)
  -u, --uniform-spacing  one space between words, two after sentences
  -s, --split-only   split long lines, but do not refill
";
"fold" "text" "wrap each input line to fit a width"
"Usage: fold [OPTION]... [FILE]...
Wrap input lines to a width.
  -w, --width=WIDTH  use WIDTH columns instead of 80
  -s, --spaces       break at spaces
  -b, --bytes        count bytes rather than columns
";
"grep" "search" "print lines that match patterns"
"Usage: grep [OPTION]... PATTERNS [FILE]...
Search FILEs (or standard input, or . with -r) for lines matching PATTERNS
(basic regular expressions by default; several patterns one per line).
  -E, -F, -G, -P   extended regexps, fixed strings, basic regexps, Rust regex syntax
  -e PATTERNS      use PATTERNS (may be repeated);  -f FILE  patterns from FILE
  -i               ignore case;  -w  whole words;  -x  whole lines
  -v               select non-matching lines
  -c               print only a count per file;  -l / -L  names of files with / without a match
  -o               print only the matched parts;  -q  quiet, exit status only
  -n, -b, -H, -h   line numbers, byte offsets, with / without file names
  -A N, -B N, -C N trailing, leading, both context lines
  -m N             stop after N selected lines;  -s  no messages about unreadable files
  -r, -R           search directories recursively (--include, --exclude, --exclude-dir)
  -a, -I, -z, -Z   binary as text, skip binary, NUL-separated lines, NUL after names
Exit status: 0 a line was selected, 1 none, 2 trouble (unless -q found a line).
In pg_shell: GNU grep's options over ripgrep's crates; back-references are
not supported and nothing is colored.
";
"gunzip" "archive" "decompress gzip files (gzip -d)"
"Usage: gunzip [OPTION]... [FILE]...
Decompress each FILE.gz (also .z, .tgz -> .tar) to FILE and remove it.
Options as gzip's: -c (to standard output), -k (keep), -f, -t, -l, -v, -N.
See `help gzip`.
";
"gzip" "archive" "compress or decompress files"
"Usage: gzip [OPTION]... [FILE]...
Compress each FILE to FILE.gz (replacing it), or standard input to standard output.
  -c, --stdout      write to standard output, keep the input
  -d, --decompress  decompress (as gunzip)
  -k, --keep        keep the input files
  -f, --force       overwrite existing output files
  -l, --list        list sizes and ratio;  -t, --test  test integrity
  -n, --no-name     store no name and time 0;  -N  restore the stored name on decompression
  -r, --recursive   operate on directories recursively
  -1 .. -9, --fast, --best  compression level (default 6)
  -S, --suffix=SUF  use SUF instead of .gz;  -v  verbose;  -q  quiet
Exit status: 0 success, 1 error, 2 warning. In pg_shell: flate2 (miniz_oxide);
the output depends only on the input, its name and its modification time.
";
"head" "text" "output the first part of files"
"Usage: head [OPTION]... [FILE]...
Print the first 10 lines of each FILE.
  -n, --lines=[-]NUM  the first NUM lines (with -, all but the last NUM)
  -c, --bytes=[-]NUM  the first NUM bytes
  -q, -v              never / always print headers with file names
";
"hostid" "system" "print the numeric identifier of the host"
"Usage: hostid
Print the numeric identifier of the current host, in hexadecimal.
";
"join" "text" "join lines of two files on a common field"
"Usage: join [OPTION]... FILE1 FILE2
For each pair of input lines with identical join fields, print a line.
  -1 FIELD, -2 FIELD  join on this field of file 1 / 2
  -t CHAR             field separator
  -a FILENUM          also print unpairable lines of file FILENUM
  -o FORMAT           output format
";
"jq" "data" "command-line JSON processor (jaq)"
"Usage: jq [OPTION]... FILTER [FILE]...
Run the jq FILTER on each JSON value of the FILEs or standard input.
  -n, --null-input     use null as the single input
  -r, --raw-output     print strings without quotes;  -j  and no newlines
  -c, --compact-output one value per line
  -s, --slurp          read all inputs into one array
  -R, --raw-input      read lines as strings
  -S, --sort-keys      sort object keys;  --tab, --indent N
  -e, --exit-status    exit 1 if the last output is false or null, 4 if none
  --arg NAME VALUE, --argjson NAME JSON, --slurpfile NAME FILE, --rawfile NAME FILE
  --args, -f FILE (filter from FILE), -L DIR (module path), -i (in place)
  --from FMT, --to FMT json, yaml, toml, cbor, xml, csv, tsv, raw
Example: jq -r '.items[] | select(.n > 1) | .name' data.json
In pg_shell: jaq 3.1, a jq clone (see jaq's documentation for the few differences).
";
"link" "files" "make a hard link"
"Usage: link FILE1 FILE2
Create a hard link named FILE2 to FILE1. (In pg_shell a hard link lives
for the command; the stored files keep each name as its own file.)
";
"ln" "files" "make links between files"
"Usage: ln [OPTION]... TARGET LINK_NAME
       ln [OPTION]... TARGET... DIRECTORY
  -s, --symbolic  make symbolic links instead of hard links
  -f, --force     remove existing destination files
  -n, --no-dereference  treat a LINK_NAME that is a symlink to a directory as a file
  -v, --verbose   print the name of each linked file
";
"ls" "files" "list directory contents"
"Usage: ls [OPTION]... [FILE]...
List information about the FILEs (the current directory by default).
  -a, --all     include names starting with .;  -A  but not . and ..
  -l            long listing format;  -h  human-readable sizes
  -1            one name per line;  -C  columns
  -R            list subdirectories recursively
  -t, -S, -X    sort by time, size, extension;  -r  reverse
  -d            list directories themselves
  -F            append an indicator (/ for directories, ...)
In pg_shell owners show as somebody/somegroup and sizes are in bytes.
";
"md5sum" "data" "compute and check MD5 checksums"
"Usage: md5sum [OPTION]... [FILE]...
Print or check MD5 (128-bit) checksums.
  -c, --check  read checksums from the files and check them
  --tag        BSD-style output
";
"mkdir" "files" "make directories"
"Usage: mkdir [OPTION]... DIRECTORY...
Create the DIRECTORY(ies), if they do not already exist.
  -p, --parents  no error if existing, make parent directories as needed
  -v, --verbose  print a message for each created directory
";
"mktemp" "files" "create a temporary file or directory"
"Usage: mktemp [OPTION]... [TEMPLATE]
Create a temporary file (or directory with -d) and print its name.
TEMPLATE must end in at least 3 X's (default tmp.XXXXXXXXXX).
  -d, --directory  create a directory
  -p DIR, --tmpdir[=DIR]  interpret TEMPLATE relative to DIR
";
"mv" "files" "move (rename) files"
"Usage: mv [OPTION]... SOURCE DEST
       mv [OPTION]... SOURCE... DIRECTORY
  -f, --force        do not prompt before overwriting
  -i, --interactive  prompt before overwrite
  -n, --no-clobber   do not overwrite an existing file
  -v, --verbose      explain what is being done
";
"nl" "text" "number lines of files"
"Usage: nl [OPTION]... [FILE]...
Write each FILE with line numbers added.
  -b, --body-numbering=STYLE  a (all), t (nonempty, default), n (none), pREGEX
  -w, --number-width=N        width of the numbers
  -s, --number-separator=STR  text after each number
";
"nproc" "system" "print the number of processing units"
"Usage: nproc [OPTION]...
Print the number of processing units available.
";
"numfmt" "data" "convert numbers to and from human-readable strings"
"Usage: numfmt [OPTION]... [NUMBER]...
Reformat NUMBERs (or the numbers on standard input).
  --from=UNIT, --to=UNIT  none, si, iec, iec-i, auto
  --field=FIELDS          convert these fields;  --padding=N
";
"od" "data" "dump files in octal and other formats"
"Usage: od [OPTION]... [FILE]...
Write an unambiguous representation, octal bytes by default, of the FILEs.
  -A, --address-radix=RADIX  d, o, x or n (none)
  -t, --format=TYPE          e.g. x1 (hex bytes), c (characters), d4, f8
  -c                         same as -t c;  -x  same as -t x2
  -j, --skip-bytes=N, -N, --read-bytes=N
";
"paste" "text" "merge lines of files"
"Usage: paste [OPTION]... [FILE]...
Write lines of each FILE side by side, separated by TABs.
  -d, --delimiters=LIST  use characters from LIST instead of TABs
  -s, --serial           paste one file at a time instead of in parallel
";
"pathchk" "files" "check whether file names are valid or portable"
"Usage: pathchk [OPTION]... NAME...
Diagnose invalid or non-portable file names.
  -p   check for most POSIX systems;  -P  check for empty names and leading -
";
"pr" "text" "convert text files for printing"
"Usage: pr [OPTION]... [FILE]...
Paginate or columnate FILEs for printing, with headers.
  -COLUMN  produce COLUMN-column output;  -l, --length=N  page length
  -h, --header=HEADER;  -t  omit headers and trailers;  -n  number lines
";
"printenv" "system" "print all or part of the environment"
"Usage: printenv [OPTION]... [VARIABLE]...
Print the values of the specified environment VARIABLEs, or all of them.
  -0, --null  end each output line with NUL
";
"printf" "text" "format and print data"
"Usage: printf FORMAT [ARGUMENT]...
Print ARGUMENTs according to FORMAT (%s, %d, %x, %f, %c, %b, %q, \\n, ...);
the FORMAT is reused while arguments remain.
Example: printf '%-10s %5.2f\\n' apple 1.5
";
"ptx" "text" "produce a permuted index of file contents"
"Usage: ptx [OPTION]... [INPUT]...
Output a permuted index (keyword in context) of the words of the INPUTs.
  -w, --width=N  output width;  -i, --ignore-file=FILE;  -o, --only-file=FILE
";
"readlink" "files" "print resolved symbolic links or canonical file names"
"Usage: readlink [OPTION]... FILE...
Print the value of a symbolic link or the canonical file name.
  -f, -e, -m  canonicalize (all but the last / all / no components must exist)
  -n          do not output the trailing newline
";
"realpath" "files" "print the resolved absolute file name"
"Usage: realpath [OPTION]... FILE...
Print the resolved absolute file name of each FILE.
  -e, --canonicalize-existing  all components must exist
  -m, --canonicalize-missing   no component need exist
  -s, --no-symlinks            do not expand symlinks
  --relative-to=DIR            print the name relative to DIR
";
"rm" "files" "remove files or directories"
"Usage: rm [OPTION]... [FILE]...
Remove (unlink) the FILEs.
  -f, --force      ignore nonexistent files, never prompt
  -r, -R, --recursive  remove directories and their contents
  -d, --dir        remove empty directories
  -i               prompt before every removal
  -v, --verbose    explain what is being done
";
"rmdir" "files" "remove empty directories"
"Usage: rmdir [OPTION]... DIRECTORY...
Remove the DIRECTORY(ies), if they are empty.
  -p, --parents  remove DIRECTORY and its ancestors
  --ignore-fail-on-non-empty
";
"sed" "text" "stream editor for filtering and transforming text"
"Usage: sed [OPTION]... {script} [FILE]...
Apply the editing script to each line of the FILEs or standard input.
  -n, --quiet        print only what the script prints (p)
  -e script          add the script (may be repeated);  -f FILE  script from FILE
  -E, -r             extended regular expressions
  -i[SUFFIX]         edit files in place (making a backup with SUFFIX)
  -s, --separate     treat files as separate;  -z  NUL-separated lines
Commands: s/RE/REPL/[gpiN], d, p, q, a, i, c, y/SRC/DST/, =, l, n, N, D, P,
h, H, g, G, x, b, t, :label, {...}, with addresses N, $, /RE/, N,M, N~S, !
Example: sed -n 's/^name: //p' file
In pg_shell: uutils sed 0.3 (GNU sed compatible). The e command and the
s///e flag cannot run commands: sed stops (\"requires a platform shell\").
";
"seq" "data" "print a sequence of numbers"
"Usage: seq [OPTION]... [FIRST [INCREMENT]] LAST
Print numbers from FIRST (default 1) to LAST, in steps of INCREMENT (default 1).
  -s, --separator=STRING  use STRING to separate numbers (default \\n)
  -w, --equal-width       equalize width by padding with leading zeroes
  -f, --format=FORMAT     use printf-style floating-point FORMAT
";
"sha1sum" "data" "compute and check SHA-1 checksums"
"Usage: sha1sum [OPTION]... [FILE]...
Print or check SHA-1 (160-bit) checksums. -c, --check to verify.
";
"sha224sum" "data" "compute and check SHA-224 checksums"
"Usage: sha224sum [OPTION]... [FILE]...
Print or check SHA-224 checksums. -c, --check to verify.
";
"sha256sum" "data" "compute and check SHA-256 checksums"
"Usage: sha256sum [OPTION]... [FILE]...
Print or check SHA-256 checksums. -c, --check to verify; --tag for BSD style.
";
"sha384sum" "data" "compute and check SHA-384 checksums"
"Usage: sha384sum [OPTION]... [FILE]...
Print or check SHA-384 checksums. -c, --check to verify.
";
"sha512sum" "data" "compute and check SHA-512 checksums"
"Usage: sha512sum [OPTION]... [FILE]...
Print or check SHA-512 checksums. -c, --check to verify.
";
"shred" "files" "overwrite a file to hide its contents"
"Usage: shred [OPTION]... FILE...
Overwrite the FILEs repeatedly (and with -u remove them).
  -n, --iterations=N  overwrite N times (default 3)
  -u                  deallocate and remove the file after overwriting
  -z, --zero          add a final overwrite with zeros
";
"shuf" "text" "generate random permutations"
"Usage: shuf [OPTION]... [FILE]
       shuf -e [OPTION]... [ARG]...
       shuf -i LO-HI [OPTION]...
Write a random permutation of the input lines (random numbers are the
command's seeded, replayable ones in pg_shell).
  -n, --head-count=COUNT  output at most COUNT lines
  -r, --repeat            output lines can be repeated
";
"sleep" "system" "delay for a specified amount of time"
"Usage: sleep NUMBER[SUFFIX]...
Pause for NUMBER seconds (suffix s, m, h or d). The time counts against the
command's time limit.
";
"sort" "text" "sort lines of text files"
"Usage: sort [OPTION]... [FILE]...
Write the sorted concatenation of the FILEs.
  -n, --numeric-sort;  -h  human numbers;  -g  general numbers;  -V  versions
  -r, --reverse;  -u, --unique;  -f, --ignore-case;  -b  ignore leading blanks
  -k, --key=KEYDEF     sort by a key (e.g. -k2,2n);  -t SEP  field separator
  -s, --stable;  -o FILE  write to FILE;  -z  NUL-terminated lines
(In pg_shell -c and -m are not available: they need threads.)
";
"split" "files" "split a file into pieces"
"Usage: split [OPTION]... [FILE [PREFIX]]
Write pieces of FILE to PREFIXaa, PREFIXab, ... (default PREFIX x).
  -l, --lines=N   N lines per piece;  -b, --bytes=SIZE  SIZE bytes per piece
  -n, --number=CHUNKS;  -d  numeric suffixes;  -a N  suffix length
";
"sum" "data" "checksum and count the blocks in a file"
"Usage: sum [OPTION]... [FILE]...
Print the checksum and block count of each FILE.
  -r  BSD algorithm (the default);  -s, --sysv  System V algorithm
";
"tac" "text" "concatenate and print files in reverse"
"Usage: tac [OPTION]... [FILE]...
Write each FILE to standard output, last line first.
  -s, --separator=STRING  use STRING instead of newline;  -r  it is a regex
";
"tail" "text" "output the last part of files"
"Usage: tail [OPTION]... [FILE]...
Print the last 10 lines of each FILE.
  -n, --lines=[+]NUM  the last NUM lines (with +, from line NUM on)
  -c, --bytes=[+]NUM  the last NUM bytes
  -q, -v              never / always print headers
(-f cannot follow a file here: a command sees the files as they were when it started.)
";
"tar" "archive" "create, list or extract tar archives"
"Usage: tar -c [-zv] -f ARCHIVE [-C DIR] FILE...
       tar -t [-zv] -f ARCHIVE [MEMBER...]
       tar -x [-zvOk] -f ARCHIVE [-C DIR] [MEMBER...]
  -c, --create / -t, --list / -x, --extract
  -f, --file=ARCHIVE  the archive (- or none: standard input / output)
  -z, --gzip          through gzip (reading detects gzip by itself);  -a  by suffix
  -v, --verbose       list the files (-vv / -tv: long listing)
  -C, --directory=DIR change to DIR first
  -O, --to-stdout     extract to standard output;  -k  keep existing files
  --strip-components=N, --exclude=GLOB
The old style works too: tar czf a.tgz dir.  In pg_shell: GNU format,
members in name order, mode 0644/0755 and owner 0/0; no -j/-J (bzip2/xz).
";
"tee" "text" "copy standard input to files and standard output"
"Usage: tee [OPTION]... [FILE]...
Copy standard input to each FILE, and also to standard output.
  -a, --append  append to the FILEs, do not overwrite
";
"test" "system" "evaluate a conditional expression"
"Usage: test EXPRESSION
       [ EXPRESSION ]
Exit with status 0 if EXPRESSION is true, 1 if false, 2 on error.
  -e FILE, -f FILE, -d FILE, -s FILE, -r/-w/-x FILE, -L FILE
  -z STRING, -n STRING, S1 = S2, S1 != S2
  N1 -eq N2, -ne, -lt, -le, -gt, -ge;  ! EXPR;  EXPR -a EXPR;  EXPR -o EXPR
";
"touch" "files" "change file timestamps, or create empty files"
"Usage: touch [OPTION]... FILE...
Update the modification time of each FILE to now, creating it if needed.
  -c, --no-create   do not create files
  -d, --date=STRING use STRING instead of now;  -t STAMP  [[CC]YY]MMDDhhmm[.ss]
  -r, --reference=FILE  use FILE's times
";
"tr" "text" "translate or delete characters"
"Usage: tr [OPTION]... SET1 [SET2]
Translate, squeeze, or delete characters from standard input.
  -d, --delete          delete characters in SET1
  -s, --squeeze-repeats replace repeats of a character with one
  -c, --complement      use the complement of SET1
Sets: a-z, [:upper:], [:digit:], \\n, ...  Example: tr a-z A-Z
";
"true" "system" "do nothing, successfully"
"Usage: true
Exit with status 0.
";
"truncate" "files" "shrink or extend the size of a file"
"Usage: truncate OPTION... FILE...
Set the size of each FILE.
  -s, --size=SIZE  set or adjust the size (+N, -N, <N, >N, /N, %N; K, M, G)
  -c, --no-create  do not create files
  -r, --reference=RFILE  use RFILE's size
";
"tsort" "text" "perform a topological sort"
"Usage: tsort [FILE]
Write a totally ordered list consistent with the partial ordering given as
pairs of words in FILE.
";
"tty" "system" "print the file name of the terminal on standard input"
"Usage: tty [OPTION]...
Print the file name of the terminal connected to standard input, or
\"not a tty\" (exit status 1) when it is not one.
";
"uname" "system" "print system information"
"Usage: uname [OPTION]...
Print system information (the kernel name by default).
  -a, --all  everything;  -s, -n, -r, -v, -m, -o  the parts
";
"unexpand" "text" "convert spaces to tabs"
"Usage: unexpand [OPTION]... [FILE]...
Convert blanks in each FILE to tabs.
  -a, --all    convert all blanks, not just initial ones
  -t, --tabs=N tab stops every N columns
";
"uniq" "text" "report or omit repeated lines"
"Usage: uniq [OPTION]... [INPUT [OUTPUT]]
Filter adjacent matching lines (sort first to filter all duplicates).
  -c, --count   prefix lines by the number of occurrences
  -d, --repeated  only print duplicated lines;  -u, --unique  only unique ones
  -i, --ignore-case;  -f N  skip N fields;  -s N  skip N characters
";
"unlink" "files" "remove a file"
"Usage: unlink FILE
Remove FILE (with the unlink call; no options).
";
"vdir" "files" "list directory contents in long format"
"Usage: vdir [OPTION]... [FILE]...
The same as ls -l -b. See `help ls`.
";
"wc" "text" "count lines, words and bytes"
"Usage: wc [OPTION]... [FILE]...
Print newline, word and byte counts for each FILE, and a total line if
more than one FILE is given.
  -l, --lines;  -w, --words;  -c, --bytes;  -m, --chars;  -L, --max-line-length
";
"zcat" "archive" "print the decompressed contents of gzip files"
"Usage: zcat [OPTION]... [FILE]...
The same as gzip -dc: decompress the FILEs (any name) to standard output.
";
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled::{COREUTILS, TEXTUTILS};

    #[test]
    fn entries_are_sorted_unique_and_well_formed() {
        assert!(ENTRIES.windows(2).all(|w| w[0].name < w[1].name), "ENTRIES must be sorted by name");
        for e in ENTRIES {
            assert!(CATEGORIES.iter().any(|(k, _)| *k == e.category), "{}: unknown category {}", e.name, e.category);
            assert!(!e.summary.is_empty() && !e.summary.ends_with('.') && !e.summary.contains('\n'), "{}", e.name);
            assert!(e.usage.starts_with("Usage: "), "{}: usage must start with Usage:", e.name);
            assert!(e.usage.ends_with('\n') && !e.usage.ends_with("\n\n"), "{}", e.name);
        }
    }

    #[test]
    fn every_shipped_program_has_an_entry_and_nothing_else_does() {
        let shipped: Vec<&str> = COREUTILS.programs.iter().chain(TEXTUTILS.programs).copied().collect();
        for p in &shipped {
            assert!(describe(p).is_some(), "{p} has no help entry");
            assert!(usage(p).is_some());
        }
        for e in ENTRIES {
            assert!(shipped.contains(&e.name), "{} is described but not shipped", e.name);
        }
        assert_eq!(describe("grep"), Some(("search", "print lines that match patterns")));
        assert!(usage("tar").unwrap().contains("-C, --directory=DIR"));
        assert_eq!(describe("cd"), None, "builtins are not bundled programs");
        let search: Vec<&str> = programs_in("search").collect();
        assert_eq!(search, ["egrep", "fgrep", "find", "grep"]);
    }
}
