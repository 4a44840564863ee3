# jeprof_zstd_spoil.py IN OUT SECTION MODE: writes OUT, a copy of the
# 64-bit little-endian ELF file IN with its compressed section SECTION
# spoiled as MODE says:
#   xor     every byte after its first 24 (an Elf64_Chdr, or a .zdebug
#           header and the zlib stream's first bytes) xored
#   flip    one bit flipped in the middle of the stream
#   cut     its size halved (the stream truncated)
#   type=N  its first 4 bytes set to N (a Chdr's ch_type; a .zdebug
#           section's "ZLIB")
#   past    its size made to run 4096 bytes past the end of the file
#   size    its Chdr's inflated size doubled
import struct
import sys

src, dst, want, mode = sys.argv[1:5]
d = bytearray(open(src, 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 0x3a)
FMT = '<IIQQQQIIQQ'  # Elf64_Shdr
CHDR = 24            # sizeof(Elf64_Chdr)


def shdr(i):
    return list(struct.unpack_from(FMT, d, shoff + i * shentsize))


strs = shdr(shstrndx)[4]
for i in range(shnum):
    s = shdr(i)
    name = d[strs + s[0]:d.index(b'\0', strs + s[0])].decode()
    if name != want:
        continue
    off, size = s[4], s[5]
    if mode == 'xor':
        for k in range(off + CHDR, off + size):
            d[k] ^= 0x5a
    elif mode == 'flip':
        d[off + CHDR + (size - CHDR) // 2] ^= 0x10
    elif mode == 'cut':
        s[5] = CHDR + (size - CHDR) // 2
    elif mode.startswith('type='):
        struct.pack_into('<I', d, off, int(mode[5:]))
    elif mode == 'past':
        s[5] = len(d) - off + 4096
    elif mode == 'size':
        inflated, = struct.unpack_from('<Q', d, off + 8)
        struct.pack_into('<Q', d, off + 8, inflated * 2)
    else:
        sys.exit('unknown mode ' + mode)
    struct.pack_into(FMT, d, shoff + i * shentsize, *s)
    open(dst, 'wb').write(d)
    sys.exit(0)
sys.exit('no section ' + want)
