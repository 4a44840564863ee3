#!/usr/bin/env bash
# perl under LD_PRELOAD=liballoc: a hash-heavy deterministic script (150k
# keys, nested hashes and arrays, deletes, string growth) prints a digest
# that must equal the glibc run's, with MALLOC_CONF unset and set. The
# preloaded perl must show liballoc in its own /proc/self/maps.
. "$(dirname "$0")/lib.sh"
need perl
check_preload_maps
check_stats_print perl -e "my %h = map { \$_ => 1 } 1..1000"

cat >"$TMP/work.pl" <<'PLEOF'
use strict;
use warnings;
use Digest::MD5;

if (@ARGV) {
    my $lib = $ARGV[0];
    open(my $m, '<', '/proc/self/maps') or die "maps: $!";
    my $found = grep { /\Q$lib\E$/ } <$m>;
    close $m;
    if (!$found) { print STDERR "not running on liballoc: $lib not in /proc/self/maps\n"; exit 3; }
}

my $x = 12345;
sub rnd { $x = ($x * 1103515245 + 12345) % 2147483648; return $x >> 4; }

my (%h, %nested);
for my $i (1 .. 150000) {
    my $k = join '', map { chr(97 + rnd() % 26) } 1 .. (1 + rnd() % 10);
    push @{ $h{$k} }, $i;
    $nested{ substr($k, 0, 2) }{ length $k }{$k}++ if $i % 3 == 0;
}
my $ctx = Digest::MD5->new;
for my $k (sort keys %h) {
    my $v = $h{$k};
    $ctx->add("$k:" . scalar(@$v) . ":$v->[0]:$v->[-1]\n");
}
for my $p (sort keys %nested) {
    for my $l (sort { $a <=> $b } keys %{ $nested{$p} }) {
        $ctx->add("$p/$l/" . scalar(keys %{ $nested{$p}{$l} }) . "\n");
    }
}
# delete two thirds, then refill with longer values
my $n = 0;
for my $k (sort keys %h) { delete $h{$k} if $n++ % 3; }
for my $i (1 .. 50000) { $h{"r$i"} = [ ("v$i") x (1 + $i % 5) ]; }
$ctx->add(scalar(keys %h) . "\n");
# string growth and splitting
my $s = '';
for my $i (1 .. 20000) { $s .= sprintf("%07d,", rnd() % 10000000); }
my @parts = sort split /,/, $s;
$ctx->add(join('', @parts[0 .. 99]));
$ctx->add(length($s) . "\n");
print scalar(keys %h), " ", scalar(@parts), " ", $ctx->hexdigest, "\n";
PLEOF

env -u MALLOC_CONF timeout 120 perl "$TMP/work.pl" >"$TMP/ref.out" 2>&1 || fail "reference run failed: $(tail -3 "$TMP/ref.out")"
grep -qE '^[0-9]+ [0-9]+ [0-9a-f]{32}$' "$TMP/ref.out" || fail "unexpected reference output: $(cat "$TMP/ref.out")"
for conf in "" "$CONF_SET"; do
    if [ -z "$conf" ]; then
        env -u MALLOC_CONF LD_PRELOAD="$LIB" timeout 120 perl "$TMP/work.pl" "$LIB" >"$TMP/pre.out" 2>&1
    else
        env MALLOC_CONF="$conf" LD_PRELOAD="$LIB" timeout 120 perl "$TMP/work.pl" "$LIB" >"$TMP/pre.out" 2>&1
    fi
    rc=$?
    [ $rc -eq 0 ] || fail "perl under liballoc (MALLOC_CONF='$conf') exited $rc: $(tail -5 "$TMP/pre.out")"
    same_output "perl (MALLOC_CONF='$conf')" "$TMP/ref.out" "$TMP/pre.out"
done
echo "perl: $(cat "$TMP/ref.out") identical under liballoc"
