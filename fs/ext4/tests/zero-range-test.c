// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of FALLOC_FL_ZERO_RANGE over dirty page cache of unwritten
 * extents, on both buffered I/O paths.
 *
 * A file is preallocated (unwritten extents), then written in full without
 * writeback: its folios are dirty over blocks that are still unwritten on
 * disk.  Zeroing whole blocks there must take them out of writeback: they
 * stay unwritten on disk and read as zeros, while the other blocks of the
 * same folios are written back as usual.  With 1k and 2k blocks a folio
 * holds several blocks, so the zeroed blocks are part of a dirty folio
 * that truncate_pagecache_range() invalidates in part: on the iomap path
 * iomap_invalidate_folio() clears their per-block dirty bits
 * (fs/iomap/buffered-io-test.c tests that function alone; the extent state
 * after writeback needs a filesystem), on the buffer_head path
 * block_invalidate_folio() cleans their buffers.  With 4k blocks the zeroed
 * blocks are whole folios, which are dropped.
 *
 * Both paths must give the same extent states and bytes.  Partial blocks at
 * the edges of a range are zeroed in the page cache and written back, so
 * they end up written (the iomap path writes the dirty folio back before
 * zeroing in a dirty unwritten block, the buffer_head path after).
 *
 * The file is written block by block, or in one write.  On the iomap path
 * that differs: a write over a whole folio gives it no per-block state,
 * and truncate_inode_partial_folio() calls ->invalidate_folio only for a
 * folio with private data, so nothing cleans the zeroed blocks of such a
 * folio and writeback writes them (with zeros) as written extents.
 * zero_range_folios_written_whole fails on 1k-iomap and 2k-iomap for
 * that reason.
 */
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/slab.h>

#include "fixture.h"

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

/* File size in blocks. */
#define ZR_BLOCKS	8

/*
 * [@start_blocks * bs + @start_bytes, @end_blocks * bs + @end_bytes) is
 * zeroed; @map is the on-disk extent state of the ZR_BLOCKS blocks after
 * writeback ('W' written, 'U' unwritten).
 */
struct zr_case {
	const char *name;
	int start_blocks, start_bytes;
	int end_blocks, end_bytes;
	const char *map;
};

static const struct zr_case zr_cases[] = {
	{ "blocks 1-2", 1, 0, 3, 0, "WUUWWWWW" },
	{ "block 3", 3, 0, 4, 0, "WWWUWWWW" },
	{ "blocks 1-2 and parts of 0 and 3", 0, 100, 3, 100, "WUUWWWWW" },
	{ "block 2 and parts of 1 and 3", 1, 100, 3, 100, "WWUWWWWW" },
	{ "inside block 1", 1, 100, 1, 200, "WWWWWWWW" },
};

/*
 * For each case, a new file: preallocate it, write it all (in one write,
 * or a block at a time), zero the range, fsync, and check the extent
 * states and, from disk, the bytes.
 */
static void check_zero_ranges(struct kunit *test, bool by_blocks)
{
	const struct ext4_kunit_config *cfg = test->param_value;
	unsigned int bs = cfg->geo->blocksize;
	loff_t size = ZR_BLOCKS * (loff_t)bs;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg, NULL);
	u8 *buf = kunit_kmalloc(test, size, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(zr_cases); i++) {
		const struct zr_case *c = &zr_cases[i];
		loff_t start = c->start_blocks * (loff_t)bs + c->start_bytes;
		loff_t end = c->end_blocks * (loff_t)bs + c->end_bytes;
		char name[16];
		struct file *f;
		loff_t pos;

		snprintf(name, sizeof(name), "zr%zu", i);
		f = ext4_kunit_create(fs, name);
		ext4_kunit_fallocate(fs, f, 0, 0, size);
		ext4_kunit_fill(buf, i, 0, size);
		if (by_blocks) {
			for (pos = 0; pos < size; pos += bs)
				ext4_kunit_write(fs, f, pos, buf + pos, bs);
		} else {
			ext4_kunit_write(fs, f, 0, buf, size);
		}
		/* the folios are dirty over unwritten blocks */
		KUNIT_ASSERT_STREQ_MSG(test,
				       ext4_kunit_extent_map(fs, f, 0, ZR_BLOCKS),
				       "UUUUUUUU",
				       "%s: written back before the zeroing",
				       c->name);

		ext4_kunit_fallocate(fs, f, FALLOC_FL_ZERO_RANGE, start,
				     end - start);
		ext4_kunit_fsync(fs, f);
		KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(f)), size,
				    "%s: size", c->name);
		KUNIT_EXPECT_STREQ_MSG(test,
				       ext4_kunit_extent_map(fs, f, 0, ZR_BLOCKS),
				       c->map,
				       "%s: extents after writeback (zeroed [%lld, %lld))",
				       c->name, start, end);

		/* what the disk holds: zeros in the range, the data around */
		ext4_kunit_drop_cache(fs, f);
		KUNIT_ASSERT_EQ(test, ext4_kunit_read(fs, f, 0, buf, size),
				(size_t)size);
		for (pos = 0; pos < size; pos++) {
			u8 want = pos >= start && pos < end ? 0 :
				  ext4_kunit_pattern(i, pos);

			if (buf[pos] != want) {
				KUNIT_FAIL(test,
					   "%s: byte %lld (block %lld) reads %#x, expected %#x",
					   c->name, pos, pos / bs, buf[pos],
					   want);
				break;
			}
		}
	}
}

/* Folios written in block-sized pieces: iomap gives them per-block state. */
static void zero_range_folios_written_by_blocks(struct kunit *test)
{
	check_zero_ranges(test, true);
}

/* Folios written whole: no per-block state on the iomap path. */
static void zero_range_folios_written_whole(struct kunit *test)
{
	check_zero_ranges(test, false);
}

static struct kunit_case ext4_zero_range_cases[] = {
	KUNIT_CASE_PARAM(zero_range_folios_written_by_blocks,
			 config_gen_params),
	KUNIT_CASE_PARAM(zero_range_folios_written_whole, config_gen_params),
	{}
};

static struct kunit_suite ext4_zero_range_suite = {
	.name = "ext4_zero_range",
	.test_cases = ext4_zero_range_cases,
};

kunit_test_suites(&ext4_zero_range_suite);
