// Tokenise texts with the runtime's JavaScript tokenizer (@huggingface/tokenizers), for the
// exporter's cross-check. Usage: node tools/model/js_tokenize.mjs TOKENIZER_JSON < texts.json
// stdin: a JSON array of strings; stdout: a JSON array of id arrays (special tokens added,
// no truncation or padding: the caller applies the runtime rule).
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

const tokenizerJson = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const texts = JSON.parse(readFileSync(0, 'utf8'));
const tokenizer = new Tokenizer(tokenizerJson, {});
const out = texts.map((t) => tokenizer.encode(t, { add_special_tokens: true }).ids);
process.stdout.write(JSON.stringify(out));
