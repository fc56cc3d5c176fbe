# tests/lib/busybox-image.sh: sourced. The test image of the engine and rootless tests,
# built from Debian's busybox-static; nothing comes from a registry.
#   busybox_rootfs DIR  a busybox root filesystem: bin/ with a link per applet, etc/passwd
#                       and group (root, user 1000, nobody), empty hosts/resolv.conf/hostname
#   busybox_archive DIR TAG ARCHIVE [--root-owned]
#                       a docker-archive (manifest.json, the image config, one layer tar, as
#                       `docker save` writes it) holding DIR as its only layer, tagged TAG;
#                       docker load, ctr images import and podman load read it. The layer
#                       keeps DIR's numeric owners, or makes every file root's (--root-owned).
# Both return non-zero on failure. Needs: busybox-static, jq, tar, sha256sum.

busybox_rootfs() {
  local r=$1 a
  file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
    { echo "/bin/busybox is not static: install busybox-static" >&2; return 1; }
  mkdir -p "$r"/{bin,dev,etc,home/user,proc,root,run,sys,tmp,usr/bin,var} || return 1
  cp /bin/busybox "$r/bin/busybox" || return 1
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$r/etc/group"
  : >"$r/etc/hosts"; : >"$r/etc/resolv.conf"; : >"$r/etc/hostname"
}

busybox_archive() {
  local r=$1 tag=$2 out=$3 d layer_sum cfg cfg_sum owner=()
  [ "${4:-}" = --root-owned ] && owner=(--owner=0 --group=0)
  d=$(mktemp -d "${out}.XXXXXX") || return 1
  tar -C "$r" --numeric-owner "${owner[@]}" --sort=name --mtime=@0 -cf "$d/layer.tar" . || { rm -rf "$d"; return 1; }
  layer_sum=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
  mv "$d/layer.tar" "$d/$layer_sum.tar"
  cfg=$(jq -cn --arg diff "sha256:$layer_sum" --arg arch "$(dpkg --print-architecture 2>/dev/null || echo amd64)" '{
      architecture: $arch, os: "linux", created: "1970-01-01T00:00:00Z",
      config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"]},
      rootfs: {type: "layers", diff_ids: [$diff]},
      history: [{created: "1970-01-01T00:00:00Z", created_by: "husk tests/lib/busybox-image.sh: Debian busybox-static"}]}') ||
    { rm -rf "$d"; return 1; }
  cfg_sum=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" >"$d/$cfg_sum.json"
  jq -cn --arg c "$cfg_sum.json" --arg l "$layer_sum.tar" --arg t "$tag" \
    '[{Config: $c, RepoTags: [$t], Layers: [$l]}]' >"$d/manifest.json"
  tar -C "$d" -cf "$out" manifest.json "$cfg_sum.json" "$layer_sum.tar" || { rm -rf "$d"; return 1; }
  rm -rf "$d"
}
