/* jeprof_zstd_elf IN OUT: writes OUT, a copy of the 64-bit little-endian
 * ELF file IN whose .debug_* sections are compressed with zstd the gABI
 * way (SHF_COMPRESSED, an Elf64_Chdr of type ELFCOMPRESS_ZSTD, then one
 * zstd frame), as `objcopy --compress-debug-sections=zstd` or
 * `ld --compress-debug-sections=zstd` write them (Debian 12's gcc 12
 * rejects -gz=zstd). Unlike binutils, it compresses every section, even
 * where that saves nothing, and its frames carry zstd's content checksum,
 * so that any bit flipped in them is found (the corrupt-section tests);
 * and it stands in for a binutils built without zstd. The compressed
 * sections go at the end of the file, then a new section header table;
 * the bytes of the original sections are zeroed, so a reader that finds
 * file:line read the zstd data. Exit 0, or 1 with a message. */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2
#endif

static int die(const char *msg)
{
    fprintf(stderr, "jeprof_zstd_elf: %s\n", msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return die("usage: jeprof_zstd_elf IN OUT");
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return die("cannot open the input");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len < (long)sizeof(Elf64_Ehdr))
        return die("input too short");
    unsigned char *in = malloc((size_t)len);
    if (!in || fread(in, 1, (size_t)len, f) != (size_t)len)
        return die("cannot read the input");
    fclose(f);
    Elf64_Ehdr eh;
    memcpy(&eh, in, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_shnum == 0 || eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > (uint64_t)len ||
        eh.e_shstrndx >= eh.e_shnum)
        return die("not a 64-bit little-endian ELF file with section headers");
    size_t n = eh.e_shnum;
    Elf64_Shdr *sh = malloc(n * sizeof(*sh));
    memcpy(sh, in + eh.e_shoff, n * sizeof(*sh));
    const Elf64_Shdr *strs = &sh[eh.e_shstrndx];

    /* the output: the input, then the compressed sections, then headers */
    size_t cap = (size_t)len * 2 + 4096, out_len = (size_t)len;
    unsigned char *out = malloc(cap);
    memcpy(out, in, (size_t)len);
    int done = 0;
    for (size_t i = 1; i < n; i++) {
        const char *name = (const char *)in + strs->sh_offset + sh[i].sh_name;
        if (strncmp(name, ".debug_", 7) != 0 || sh[i].sh_type == SHT_NOBITS ||
            (sh[i].sh_flags & (SHF_ALLOC | SHF_COMPRESSED)) || sh[i].sh_size == 0)
            continue;
        size_t bound = ZSTD_compressBound(sh[i].sh_size);
        if (out_len + sizeof(Elf64_Chdr) + bound + n * sizeof(Elf64_Shdr) + 8 > cap) {
            cap = (out_len + sizeof(Elf64_Chdr) + bound + n * sizeof(Elf64_Shdr)) * 2;
            out = realloc(out, cap);
        }
        while (out_len % 8) /* the Chdr's alignment, zero padding */
            out[out_len++] = 0;
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 19);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        size_t z = ZSTD_compress2(cc, out + out_len + sizeof(Elf64_Chdr), bound,
                                  in + sh[i].sh_offset, sh[i].sh_size);
        ZSTD_freeCCtx(cc);
        if (ZSTD_isError(z))
            return die(ZSTD_getErrorName(z));
        Elf64_Chdr ch = {.ch_type = ELFCOMPRESS_ZSTD,
                         .ch_size = sh[i].sh_size,
                         .ch_addralign = sh[i].sh_addralign ? sh[i].sh_addralign : 1};
        memcpy(out + out_len, &ch, sizeof(ch));
        memset(out + sh[i].sh_offset, 0, sh[i].sh_size);
        sh[i].sh_offset = out_len;
        sh[i].sh_size = sizeof(ch) + z;
        sh[i].sh_flags |= SHF_COMPRESSED;
        sh[i].sh_addralign = 8;
        out_len += sizeof(ch) + z;
        done++;
    }
    if (!done)
        return die("no .debug_* section to compress");
    while (out_len % 8)
        out[out_len++] = 0;
    eh.e_shoff = out_len;
    memcpy(out + out_len, sh, n * sizeof(*sh));
    out_len += n * sizeof(*sh);
    memcpy(out, &eh, sizeof(eh));
    f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0)
        return die("cannot write the output");
    free(out);
    free(sh);
    free(in);
    return 0;
}
