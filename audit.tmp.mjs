import ts from "typescript"
import { readFileSync, readdirSync } from "node:fs"
const files = readdirSync("src").filter(f => f.endsWith(".ts")).map(f => "src/" + f)
const out = {}
for (const file of files) {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)
  const values = new Set()
  for (const st of sf.statements) if (ts.isVariableStatement(st)) values.add(st.declarationList.declarations[0].name.text)
  for (const st of sf.statements) {
    const mods = ts.canHaveModifiers(st) ? ts.getModifiers(st) : undefined
    if (!mods?.some(m => m.kind === ts.SyntaxKind.ExportKeyword)) continue
    const name = st.name?.text ?? st.declarationList?.declarations[0]?.name?.text
    if ((ts.isTypeAliasDeclaration(st) || ts.isModuleDeclaration(st)) && values.has(name)) continue
    const text = st.getFullText().slice(0, st.getLeadingTriviaWidth())
    if (!/```ts/.test(text) || !/@since/.test(text) || !/@category/.test(text)) (out[file] ??= []).push(name)
  }
}
for (const [f, v] of Object.entries(out)) console.log(f, v.length, v.join(" "))
