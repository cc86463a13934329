# The Action's inputs as sglint flags, shared by the check and diff steps of action.yml
# (`source`d; each step starts its own `args` array first). Inputs are data, never shell
# code: they are split into words by lines and spaces, without globbing, and quoted.

words() {  # split an input into words by lines and spaces, without globbing
  local line
  local -a part
  while IFS= read -r line || [ -n "$line" ]; do
    read -r -a part <<< "$line"
    printf '%s\n' ${part[@]+"${part[@]}"}
  done <<< "$1"
}

switch() {  # --name / --no-name from true / false; nothing when empty
  case "$2" in
    true) args+=("--$1") ;;
    false) args+=("--no-$1") ;;
    "") ;;
    *) echo "calico-sglint: the input $1 must be true, false or empty" >&2; exit 2 ;;
  esac
}

profile_args() {  # the config, profile settings, rule packs and variable files, as both steps pass them
  local item
  [ -n "$SGLINT_CONFIG" ] && args+=(--config "$SGLINT_CONFIG")
  [ -n "$SGLINT_ENCAPSULATION" ] && args+=(--encapsulation "$SGLINT_ENCAPSULATION")
  switch bgp "$SGLINT_BGP"
  switch typha "$SGLINT_TYPHA"
  switch wireguard "$SGLINT_WIREGUARD"
  switch wireguard-v6 "$SGLINT_WIREGUARD_V6"
  [ -n "$SGLINT_VXLAN_PORT" ] && args+=(--vxlan-port "$SGLINT_VXLAN_PORT")
  [ -n "$SGLINT_APISERVER_PORT" ] && args+=(--apiserver-port "$SGLINT_APISERVER_PORT")
  [ -n "$SGLINT_AWS_SRC_DST_CHECK" ] && args+=(--aws-src-dst-check "$SGLINT_AWS_SRC_DST_CHECK")
  switch ipv6-only "$SGLINT_IPV6_ONLY"
  while IFS= read -r item; do [ -n "$item" ] && args+=(--rules "$item"); done < <(words "$SGLINT_RULES")
  while IFS= read -r item; do [ -n "$item" ] && args+=(--var-file "$item"); done < <(words "$SGLINT_VAR_FILES")
  return 0  # the last test above may be false; under `bash -e` the step must go on
}
