// vitest 5 targets Node >= 22 and calls Map.groupBy / Object.groupBy (Node 21+) when it reports
// failures. The project machines run Node 20: provide both so failure reports print instead of crashing.
if (typeof Map.groupBy !== "function") {
  Map.groupBy = (items, key) => {
    const map = new Map()
    let i = 0
    for (const item of items) {
      const k = key(item, i++)
      const group = map.get(k)
      if (group) group.push(item)
      else map.set(k, [item])
    }
    return map
  }
}
if (typeof Object.groupBy !== "function") {
  Object.groupBy = (items, key) => {
    const out = Object.create(null)
    let i = 0
    for (const item of items) {
      const k = key(item, i++)
      ;(out[k] ??= []).push(item)
    }
    return out
  }
}
