// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture's filesystem images, one per geometry.  fs/ext4/Makefile has
 * mkimage.sh make them with the host's mke2fs at build time; they are
 * embedded xz-compressed (a few KiB each) and unpacked per test.
 */
#include "fixture.h"

/* The path is relative to the object tree, where make runs the assembler. */
#define EXT4_KUNIT_IMAGE(geo)						\
	asm(".pushsection .rodata, \"a\"\n"				\
	    "ext4_kunit_image_" #geo ":\n"				\
	    ".incbin \"fs/ext4/tests/ext4-" #geo ".img.xz\"\n"		\
	    "ext4_kunit_image_" #geo "_end:\n"				\
	    ".popsection\n")

EXT4_KUNIT_IMAGE(1k);
EXT4_KUNIT_IMAGE(2k);
EXT4_KUNIT_IMAGE(4k);
EXT4_KUNIT_IMAGE(bigalloc16k);
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
EXT4_KUNIT_IMAGE(16k);
EXT4_KUNIT_IMAGE(64k);
#endif

#define GEOMETRY(geo, bs, cs, mib) {					\
	.name = #geo,							\
	.blocksize = (bs),						\
	.clustersize = (cs),						\
	.bytes = (mib) << 20,						\
	.image = ext4_kunit_image_##geo,				\
	.image_end = ext4_kunit_image_##geo##_end,			\
}

/* Keep in step with mkimage.sh and EXT4_KUNIT_IMAGES in fs/ext4/Makefile. */
const struct ext4_kunit_geometry ext4_kunit_geometries[EXT4_KUNIT_NR_GEOMETRIES] = {
	GEOMETRY(1k, 1024, 1024, 8U),
	GEOMETRY(2k, 2048, 2048, 8U),
	GEOMETRY(4k, 4096, 4096, 8U),
	GEOMETRY(bigalloc16k, 4096, 16384, 8U),
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	/* Blocks above the page size: a journal of 1024 blocks must fit. */
	GEOMETRY(16k, 16384, 16384, 40U),
	GEOMETRY(64k, 65536, 65536, 136U),
#endif
};
