// png_count.js PNG: decodes an 8-bit RGB/RGBA, non-interlaced PNG (what
// Chromium's screenshots are) with node's zlib and prints
// "<pixels> <non-background> <red>": pixels unlike the top-left
// (background) pixel, and strongly red ones (the highlighted leak line).
'use strict';
const fs = require('fs'), zlib = require('zlib');
const buf = fs.readFileSync(process.argv[2]);
if (buf.readUInt32BE(0) !== 0x89504e47) { console.error('not a PNG'); process.exit(2); }
let off = 8, w = 0, h = 0, depth = 0, ctype = 0, inter = 0; const idat = [];
while (off < buf.length) {
  const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8);
  const data = buf.subarray(off + 8, off + 8 + len);
  if (type === 'IHDR') { w = data.readUInt32BE(0); h = data.readUInt32BE(4); depth = data[8]; ctype = data[9]; inter = data[12]; }
  else if (type === 'IDAT') idat.push(data);
  else if (type === 'IEND') break;
  off += 12 + len;
}
if (depth !== 8 || (ctype !== 2 && ctype !== 6) || inter) { console.error('unsupported PNG', depth, ctype, inter); process.exit(2); }
const bpp = ctype === 6 ? 4 : 3, stride = w * bpp;
const raw = zlib.inflateSync(Buffer.concat(idat));
const px = Buffer.alloc(h * stride);
for (let y = 0; y < h; y++) {
  const f = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride;
  for (let x = 0; x < stride; x++) {
    const a = x >= bpp ? px[dst + x - bpp] : 0, b = y ? px[dst - stride + x] : 0;
    const c = x >= bpp && y ? px[dst - stride + x - bpp] : 0;
    let v = raw[src + x];
    if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
    else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
    px[dst + x] = v & 255;
  }
}
let other = 0, red = 0;
for (let i = 0; i < w * h; i++) {
  const r = px[i * bpp], g = px[i * bpp + 1], b = px[i * bpp + 2];
  if (r !== px[0] || g !== px[1] || b !== px[2]) other++;
  if (r > 180 && g < 90 && b < 90) red++;
}
console.log(w * h, other, red);
