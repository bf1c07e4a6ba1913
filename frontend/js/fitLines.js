// Greedy word wrap for canvas text: the lines of `text` whose measured width
// (measure(line), e.g. ctx.measureText(line).width) stays within maxWidth. A
// word wider than maxWidth gets a line of its own rather than being cut.
export function fitLines(text, maxWidth, measure) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && measure(next) > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}
