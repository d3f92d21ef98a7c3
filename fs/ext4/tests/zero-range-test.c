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
 * folio with private data, so nothing would clean the zeroed blocks of
 * such a folio and writeback would write them (with zeros) as written
 * extents.  ext4 writes the folios at the edges of the range back first
 * for that reason (ext4_truncate_page_cache_block_range());
 * zero_range_folios_written_whole fails on 1k-iomap and 2k-iomap without
 * it.
 *
 * zero_range_from_unaligned_eof zeroes whole blocks past an EOF that is not
 * block aligned, extending the file.  The old EOF block is then both the
 * block whose tail past i_size must be zeroed and a block the zero range
 * converts: zeroing its tail must not read its old data back into the page
 * cache after the range was dropped from it.
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

/*
 * The file holds @size_blocks blocks and @size_sectors sectors of data, the
 * blocks [@start, @end) are zeroed without KEEP_SIZE; @map is the extent
 * state of the first @end blocks after a byte is written at the old EOF
 * and written back.
 */
struct zr_eof_case {
	const char *name;
	int size_blocks, size_sectors;
	int start, end;
	const char *map;
};

static const struct zr_eof_case zr_eof_cases[] = {
	{ "old EOF block first in the range", 1, 1, 1, 3, "WWU" },
	{ "old EOF block inside the range", 2, 1, 1, 4, "WUWU" },
	/* the EOF block's tail must still be zeroed when it is not converted */
	{ "old EOF block before the range", 0, 1, 1, 2, "WU" },
};

/* Written at the old EOF once the range is zeroed. */
#define ZR_EOF_MARK	0x77

/* The old size: one sector past a block boundary, never block aligned. */
static loff_t zr_eof_size(const struct zr_eof_case *c, unsigned int bs)
{
	return c->size_blocks * (loff_t)bs + c->size_sectors * SECTOR_SIZE;
}

/* What case @i's file must hold once zeroed and written at the old EOF. */
static u8 *zr_eof_want(struct kunit *test, size_t i, unsigned int bs)
{
	const struct zr_eof_case *c = &zr_eof_cases[i];
	loff_t size = zr_eof_size(c, bs);
	u8 *want = kunit_kzalloc(test, c->end * (size_t)bs, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, want);
	ext4_kunit_fill(want, i, 0, min_t(loff_t, size, c->start * (loff_t)bs));
	want[size] = ZR_EOF_MARK;
	return want;
}

/*
 * Junk in the EOF block past i_size, on disk only: what a crash during an
 * extension may leave there.  Reads never see it, as long as i_size does
 * not move past it without zeroing it.
 */
static void zr_junk_past_eof(struct ext4_kunit_fs *fs, struct file *f,
			     loff_t size, unsigned int bs)
{
	size_t len = round_up(size, bs) - size;
	ext4_fsblk_t pblk;
	u8 *junk;

	junk = kunit_kmalloc(fs->test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(fs->test, junk);
	memset(junk, 0xee, len);
	pblk = ext4_kunit_pblk(fs, f, size / bs);
	ext4_kunit_raw_io(fs, REQ_OP_WRITE, pblk * bs + size % bs, junk, len);
}

/* Compare the first @len bytes of @f with @want; say which byte differs. */
static void zr_expect_bytes(struct ext4_kunit_fs *fs, struct file *f,
			    const u8 *want, size_t len, const char *name,
			    const char *when)
{
	struct kunit *test = fs->test;
	u8 *got = kunit_kzalloc(test, len, GFP_KERNEL);
	size_t pos;

	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_EQ(test, ext4_kunit_read(fs, f, 0, got, len), len);
	for (pos = 0; pos < len; pos++) {
		if (got[pos] != want[pos]) {
			KUNIT_FAIL(test, "%s, %s: byte %zu reads %#x, expected %#x",
				   name, when, pos, got[pos], want[pos]);
			return;
		}
	}
}

/*
 * For each case, a new file: write its data, fsync, put junk past EOF on
 * disk, drop the cache and zero the range.  Zeros must then read back from
 * the cache; a byte then written at the old EOF must reach the disk, and
 * the rest of the range stay zeros, also after a remount.
 */
static void zero_range_from_unaligned_eof(struct kunit *test)
{
	const struct ext4_kunit_config *cfg = test->param_value;
	unsigned int bs = cfg->geo->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg, NULL);
	const u8 mark = ZR_EOF_MARK;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(zr_eof_cases); i++) {
		const struct zr_eof_case *c = &zr_eof_cases[i];
		loff_t size = zr_eof_size(c, bs);
		size_t end = c->end * (size_t)bs;
		u8 *data = kunit_kmalloc(test, size, GFP_KERNEL), *want;
		char name[16];
		struct file *f;

		KUNIT_ASSERT_NOT_NULL(test, data);
		snprintf(name, sizeof(name), "zre%zu", i);
		f = ext4_kunit_create(fs, name);
		ext4_kunit_fill(data, i, 0, size);
		ext4_kunit_write(fs, f, 0, data, size);
		ext4_kunit_fsync(fs, f);
		zr_junk_past_eof(fs, f, size, bs);
		ext4_kunit_drop_cache(fs, f);

		ext4_kunit_fallocate(fs, f, FALLOC_FL_ZERO_RANGE,
				     c->start * (loff_t)bs,
				     (c->end - c->start) * (loff_t)bs);
		KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(f)),
				    (loff_t)end, "%s: size", c->name);
		want = zr_eof_want(test, i, bs);
		want[size] = 0;
		zr_expect_bytes(fs, f, want, end, c->name, "in the page cache");

		ext4_kunit_write(fs, f, size, &mark, 1);
		ext4_kunit_fsync(fs, f);
		KUNIT_EXPECT_STREQ_MSG(test,
				       ext4_kunit_extent_map(fs, f, 0, c->end),
				       c->map, "%s: extents after writeback",
				       c->name);
		ext4_kunit_drop_cache(fs, f);
		zr_expect_bytes(fs, f, zr_eof_want(test, i, bs), end, c->name,
				"from disk");
	}

	ext4_kunit_remount(fs);
	for (i = 0; i < ARRAY_SIZE(zr_eof_cases); i++) {
		char name[16];

		snprintf(name, sizeof(name), "zre%zu", i);
		zr_expect_bytes(fs, ext4_kunit_open(fs, name),
				zr_eof_want(test, i, bs),
				zr_eof_cases[i].end * (size_t)bs,
				zr_eof_cases[i].name, "after a remount");
	}
}

static struct kunit_case ext4_zero_range_cases[] = {
	KUNIT_CASE_PARAM(zero_range_folios_written_by_blocks,
			 config_gen_params),
	KUNIT_CASE_PARAM(zero_range_folios_written_whole, config_gen_params),
	KUNIT_CASE_PARAM(zero_range_from_unaligned_eof, config_gen_params),
	{}
};

static struct kunit_suite ext4_zero_range_suite = {
	.name = "ext4_zero_range",
	.test_cases = ext4_zero_range_cases,
};

kunit_test_suites(&ext4_zero_range_suite);
