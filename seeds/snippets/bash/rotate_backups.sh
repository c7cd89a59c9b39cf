#!/usr/bin/env bash
# Makes a timestamped tar.gz of a directory and keeps only the newest N archives.
set -euo pipefail

usage() {
    echo "usage: $(basename "$0") [-k KEEP] [-n] SOURCE_DIR DEST_DIR" >&2
    exit 2
}

log() {
    printf '%s %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$*" >&2
}

make_archive() {
    local source=$1 dest=$2 stamp name
    stamp=$(date '+%Y%m%d-%H%M%S')
    name="$(basename "$source")-$stamp.tar.gz"
    if [[ $dry_run -eq 1 ]]; then
        log "would create $dest/$name"
        return 0
    fi
    tar -czf "$dest/$name.partial" -C "$(dirname "$source")" "$(basename "$source")"
    mv "$dest/$name.partial" "$dest/$name"
    log "created $dest/$name ($(du -h "$dest/$name" | cut -f1))"
}

prune_archives() {
    local dest=$1 prefix=$2 keep=$3
    local -a archives
    mapfile -t archives < <(ls -1t "$dest"/"$prefix"-*.tar.gz 2>/dev/null || true)
    local count=${#archives[@]}
    if (( count <= keep )); then
        log "nothing to prune ($count archives, keeping $keep)"
        return 0
    fi
    for old in "${archives[@]:keep}"; do
        if [[ $dry_run -eq 1 ]]; then
            log "would remove $old"
        else
            rm -f -- "$old"
            log "removed $old"
        fi
    done
}

keep=7
dry_run=0
while getopts ":k:n" opt; do
    case $opt in
        k) keep=$OPTARG ;;
        n) dry_run=1 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 2 ]] || usage
[[ $keep =~ ^[0-9]+$ ]] || { log "KEEP must be a number"; exit 2; }

source_dir=${1%/}
dest_dir=${2%/}
[[ -d $source_dir ]] || { log "no such directory: $source_dir"; exit 1; }
mkdir -p "$dest_dir"

make_archive "$source_dir" "$dest_dir"
prune_archives "$dest_dir" "$(basename "$source_dir")" "$keep"
