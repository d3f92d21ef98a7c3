// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ext4's regular-file buffered I/O on a real filesystem.
 *
 * Every case runs once per geometry (block size 1k, 2k and 4k, and 4k blocks
 * in 16k bigalloc clusters) and buffered I/O path (buffer_heads, and iomap
 * with the buffered_iomap mount option) on a freshly made filesystem.  Both
 * paths must give the same bytes, sizes and block states, except where the
 * iomap design differs, which the expectations say.
 */
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/slab.h>

#include "fixture.h"

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

static const struct ext4_kunit_config *cfg(struct kunit *test)
{
	return test->param_value;
}

static const struct ext4_kunit_geometry *geo(struct kunit *test)
{
	return cfg(test)->geo;
}

static u8 *alloc_buf(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

/* Fail with the first byte of @buf (file offset @pos) that is not zero. */
static void expect_zero(struct kunit *test, const u8 *buf, loff_t pos,
			size_t len, const char *what)
{
	const u8 *bad = memchr_inv(buf, 0, len);

	if (bad)
		KUNIT_FAIL(test, "%s: byte %lld is %#x, expected zero", what,
			   pos + (bad - buf), *bad);
}

/* Fail with the first byte that differs from the pattern written there. */
static void expect_pattern(struct kunit *test, const u8 *buf, u8 seed,
			   loff_t pos, size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		u8 want = ext4_kunit_pattern(seed, pos + i);

		if (buf[i] != want) {
			KUNIT_FAIL(test, "%s: byte %lld is %#x, expected %#x",
				   what, pos + i, buf[i], want);
			return;
		}
	}
}

static void write_pattern(struct ext4_kunit_fs *fs, struct file *file,
			  u8 seed, loff_t pos, size_t len)
{
	u8 *buf = alloc_buf(fs->test, len);

	ext4_kunit_fill(buf, seed, pos, len);
	ext4_kunit_write(fs, file, pos, buf, len);
	kunit_kfree(fs->test, buf);
}

/*
 * Read [0, size) and check that [start, end) reads as zeros and everything
 * else as the pattern written with @seed.
 */
static void expect_file(struct ext4_kunit_fs *fs, struct file *file, u8 seed,
			loff_t size, loff_t start, loff_t end, const char *what)
{
	struct kunit *test = fs->test;
	u8 *buf = alloc_buf(test, size);

	KUNIT_ASSERT_EQ_MSG(test, ext4_kunit_read(fs, file, 0, buf, size),
			    (size_t)size, "%s: short read", what);
	expect_pattern(test, buf, seed, 0, start, what);
	expect_zero(test, buf + start, start, end - start, what);
	expect_pattern(test, buf + end, seed, end, size - end, what);
	kunit_kfree(test, buf);
}

static loff_t isize(struct file *file)
{
	return i_size_read(file_inode(file));
}

static loff_t disksize(struct file *file)
{
	return READ_ONCE(EXT4_I(file_inode(file))->i_disksize);
}

/* Round trips: offsets and lengths in blocks, pages and bytes. */
struct rw_case {
	const char *name;
	int off_blocks, off_pages, off_bytes;
	int len_blocks, len_pages, len_bytes;
};

static const struct rw_case rw_cases[] = {
	{ "one aligned block", .off_blocks = 1, .len_blocks = 1 },
	{ "three aligned blocks from 0", .len_blocks = 3 },
	{ "inside one block", .off_blocks = 1, .off_bytes = 7, .len_bytes = 100 },
	{ "across a block boundary", .off_blocks = 1, .off_bytes = -5,
	  .len_bytes = 10 },
	{ "across a folio boundary", .off_pages = 1, .off_bytes = -3,
	  .len_bytes = 6 },
	{ "over three folios, unaligned", .off_pages = 1, .off_bytes = -100,
	  .len_pages = 2, .len_bytes = 200 },
};

/*
 * Write a pattern, then read the whole file back from the page cache and,
 * after fsync and dropping the cache, from disk: the range before the write
 * is a hole and reads as zeros, the size is the end of the write.
 */
static void write_read_round_trip(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rw_cases); i++) {
		const struct rw_case *c = &rw_cases[i];
		loff_t pos = c->off_blocks * bs + c->off_pages * PAGE_SIZE +
			     c->off_bytes;
		size_t len = c->len_blocks * bs + c->len_pages * PAGE_SIZE +
			     c->len_bytes;
		char name[16];
		struct file *f;
		u8 b;

		snprintf(name, sizeof(name), "rw%zu", i);
		f = ext4_kunit_create(fs, name);
		write_pattern(fs, f, i, pos, len);
		KUNIT_EXPECT_EQ_MSG(test, isize(f), pos + len, "%s", c->name);
		expect_file(fs, f, i, pos + len, 0, pos, c->name);
		ext4_kunit_fsync(fs, f);
		ext4_kunit_drop_cache(fs, f);
		expect_file(fs, f, i, pos + len, 0, pos, c->name);
		KUNIT_EXPECT_EQ_MSG(test, ext4_kunit_read(fs, f, pos + len, &b, 1),
				    (size_t)0, "%s: read at EOF", c->name);
	}
}

/*
 * A block written alone in the middle of a file is the only one allocated:
 * writeback of a folio that holds several blocks (1k and 2k blocks) must not
 * allocate the blocks of the folio that were never written, and they read
 * back as zeros.
 */
static void partial_folio_write_allocates_written_blocks_only(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "partial");

	write_pattern(fs, f, 1, bs, bs);
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 4), ".W..");
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, 1, 2 * bs, 0, bs, "block 1 alone");
}

/* Blocks below a write far from 0 are holes that read as zeros. */
static void hole_reads_zero(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "hole");

	write_pattern(fs, f, 2, 4 * bs, bs);
	expect_file(fs, f, 2, 5 * bs, 0, 4 * bs, "hole, page cache");
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 6), "....W.");
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, 2, 5 * bs, 0, 4 * bs, "hole, disk");
}

/*
 * Truncating into the middle of a block frees the blocks past it and zeroes
 * the rest of that block, in the page cache and on disk: extending the file
 * again must not bring the old bytes back.
 */
static void truncate_down_mid_block_zeroes_tail(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "trunc");
	loff_t cut = bs + bs / 2;

	write_pattern(fs, f, 3, 0, 3 * bs);
	ext4_kunit_fsync(fs, f);
	ext4_kunit_truncate(fs, f, cut);
	KUNIT_EXPECT_EQ(test, isize(f), cut);
	KUNIT_EXPECT_EQ(test, disksize(f), cut);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 3), "WW.");

	ext4_kunit_truncate(fs, f, 3 * bs);
	expect_file(fs, f, 3, 3 * bs, cut, 3 * bs, "after truncate up");

	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "trunc");
	KUNIT_EXPECT_EQ(test, isize(f), 3 * (loff_t)bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 3), "WW.");
	expect_file(fs, f, 3, 3 * bs, cut, 3 * bs, "after remount");
}

/*
 * Truncating into the middle of a block of dirty data keeps the bytes below
 * the new size.  With blocks above the page size the data sits in a folio
 * larger than a block; truncate splits it only down to the block size, so
 * the block-sized folio around the new size stays with data on both sides
 * of it, and must not be dropped with the folios past the new size.
 */
static void truncate_dirty_mid_block_keeps_data(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "dirty");
	size_t len = 4 * max_t(size_t, bs, PAGE_SIZE);
	loff_t cut = bs + bs / 2;

	write_pattern(fs, f, 4, 0, len);
	ext4_kunit_assert_large_folio(fs, f, bs);
	ext4_kunit_truncate(fs, f, cut);
	KUNIT_EXPECT_EQ(test, isize(f), cut);
	expect_file(fs, f, 4, cut, cut, cut, "page cache after truncate");

	ext4_kunit_fsync(fs, f);
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, 4, cut, cut, cut, "disk after truncate");
	ext4_kunit_truncate(fs, f, 3 * bs);
	expect_file(fs, f, 4, 3 * bs, cut, 3 * bs, "after truncate up");
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "dirty");
	expect_file(fs, f, 4, 3 * bs, cut, 3 * bs, "after remount");
}

/* Ranges in blocks plus bytes; maps of blocks 0-3 after the operation. */
struct range_case {
	const char *name;
	int start_blocks, start_bytes;
	int end_blocks, end_bytes;
	const char *punch_map;
	const char *zero_map;
};

static const struct range_case range_cases[] = {
	/* Whole blocks go: punched to holes, zeroed to unwritten extents. */
	{ "blocks 1-2", 1, 0, 3, 0, "W..W", "WUUW" },
	/*
	 * Partial blocks at the edges stay allocated and are zeroed through
	 * the page cache; only the whole block in between changes state.
	 */
	{ "half of 0 to half of 2", 0, 512, 2, 512, "W.WW", "WUWW" },
	{ "inside block 1", 1, 10, 1, 20, "WWWW", "WWWW" },
};

/* bs/1024 scales the byte offsets above (written for 1k blocks). */
static void range_bounds(struct kunit *test, const struct range_case *c,
			 loff_t *start, loff_t *end)
{
	unsigned int bs = geo(test)->blocksize;

	*start = (loff_t)c->start_blocks * bs + c->start_bytes * (bs / 1024);
	*end = (loff_t)c->end_blocks * bs + c->end_bytes * (bs / 1024);
}

/*
 * One file per range case, four written blocks each.  Before the remount,
 * apply @mode over the range first; both times, the range reads as zeros,
 * the rest keeps its data, the size does not change, and the block states
 * are as expected.
 */
static void check_range_files(struct ext4_kunit_fs *fs, int mode,
			      bool remounted)
{
	struct kunit *test = fs->test;
	unsigned int bs = geo(test)->blocksize;
	const char *when = remounted ? ", after remount" : "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(range_cases); i++) {
		const struct range_case *c = &range_cases[i];
		const char *map = mode & FALLOC_FL_PUNCH_HOLE ? c->punch_map :
								 c->zero_map;
		loff_t start, end;
		char name[16];
		struct file *f;

		range_bounds(test, c, &start, &end);
		snprintf(name, sizeof(name), "range%zu", i);
		if (remounted) {
			f = ext4_kunit_open(fs, name);
		} else {
			f = ext4_kunit_create(fs, name);
			write_pattern(fs, f, 4 + i, 0, 4 * bs);
			ext4_kunit_fsync(fs, f);
			ext4_kunit_fallocate(fs, f, mode, start, end - start);
		}
		KUNIT_EXPECT_EQ_MSG(test, isize(f), 4 * (loff_t)bs, "%s%s",
				    c->name, when);
		KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, 4),
				       map, "%s%s", c->name, when);
		expect_file(fs, f, 4 + i, 4 * bs, start, end, c->name);
	}
}

static void check_range_op(struct kunit *test, int mode)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);

	check_range_files(fs, mode, false);
	ext4_kunit_remount(fs);
	check_range_files(fs, mode, true);
}

static void punch_hole(struct kunit *test)
{
	check_range_op(test, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
}

static void zero_range(struct kunit *test)
{
	check_range_op(test, FALLOC_FL_ZERO_RANGE);
}

/*
 * Data, i_size and i_disksize survive an unmount, with or without an fsync
 * first: unmount writes back what is dirty and updates the on-disk size.
 */
static void data_and_size_survive_remount(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	loff_t pos = 3 * bs + 123, size = pos + 456;
	static const char * const names[] = { "synced", "unsynced" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct file *f = ext4_kunit_create(fs, names[i]);

		write_pattern(fs, f, 6 + i, pos, size - pos);
		if (i == 0)
			ext4_kunit_fsync(fs, f);
	}
	ext4_kunit_remount(fs);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct file *f = ext4_kunit_open(fs, names[i]);

		KUNIT_EXPECT_EQ_MSG(test, isize(f), size, "%s", names[i]);
		KUNIT_EXPECT_EQ_MSG(test, disksize(f), size, "%s", names[i]);
		KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, 5),
				       "...W.", "%s", names[i]);
		expect_file(fs, f, 6 + i, size, 0, pos, names[i]);
	}
}

/*
 * With delayed allocation a buffered write only reserves space: the blocks
 * are delayed in the extent status tree, absent from the extent tree, and
 * i_disksize stays behind i_size.  fsync allocates them as written extents,
 * releases the reservation and moves i_disksize up.
 */
static void delalloc_becomes_written_at_fsync(struct kunit *test)
{
	const struct ext4_kunit_geometry *g = geo(test);
	unsigned int bs = g->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "delalloc");
	struct ext4_inode_info *ei = EXT4_I(file_inode(f));

	write_pattern(fs, f, 8, 0, 2 * bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_status_map(fs, f, 0, 2), "DD");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2), "..");
	/* Reservations are counted in clusters. */
	KUNIT_EXPECT_EQ(test, ei->i_reserved_data_blocks,
			DIV_ROUND_UP(2 * bs, g->clustersize));
	KUNIT_EXPECT_EQ(test, isize(f), 2 * (loff_t)bs);
	KUNIT_EXPECT_EQ(test, disksize(f), 0);

	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_status_map(fs, f, 0, 2), "WW");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2), "WW");
	KUNIT_EXPECT_EQ(test, ei->i_reserved_data_blocks, 0U);
	KUNIT_EXPECT_EQ(test, disksize(f), 2 * (loff_t)bs);
}

/*
 * Without delayed allocation, a write allocates its blocks at once and
 * reserves nothing.  On the buffer_head path they are written extents
 * (dioread_nolock is off for nodelalloc) and write_end moves i_disksize with
 * i_size.  On the iomap path, which has no data=ordered, they are unwritten
 * until writeback has put the data there, and i_disksize moves when that
 * writeback completes.
 */
static void nodelalloc_allocates_at_write(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), "nodelalloc");
	struct file *f = ext4_kunit_create(fs, "nodelalloc");
	bool iomap = cfg(test)->path == EXT4_KUNIT_IOMAP;

	write_pattern(fs, f, 9, 0, 2 * bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 3),
			   iomap ? "UU." : "WW.");
	KUNIT_EXPECT_EQ(test, EXT4_I(file_inode(f))->i_reserved_data_blocks, 0U);
	KUNIT_EXPECT_EQ(test, disksize(f), iomap ? 0 : 2 * (loff_t)bs);
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 3), "WW.");
	KUNIT_EXPECT_EQ(test, disksize(f), 2 * (loff_t)bs);
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "nodelalloc");
	expect_file(fs, f, 9, 2 * bs, 0, 0, "after remount");
}

static struct kunit_case ext4_buffered_io_cases[] = {
	KUNIT_CASE_PARAM(write_read_round_trip, config_gen_params),
	KUNIT_CASE_PARAM(partial_folio_write_allocates_written_blocks_only,
			 config_gen_params),
	KUNIT_CASE_PARAM(hole_reads_zero, config_gen_params),
	KUNIT_CASE_PARAM(truncate_down_mid_block_zeroes_tail, config_gen_params),
	KUNIT_CASE_PARAM(truncate_dirty_mid_block_keeps_data, config_gen_params),
	KUNIT_CASE_PARAM(punch_hole, config_gen_params),
	KUNIT_CASE_PARAM(zero_range, config_gen_params),
	KUNIT_CASE_PARAM(data_and_size_survive_remount, config_gen_params),
	KUNIT_CASE_PARAM(delalloc_becomes_written_at_fsync, config_gen_params),
	KUNIT_CASE_PARAM(nodelalloc_allocates_at_write, config_gen_params),
	{}
};

static struct kunit_suite ext4_buffered_io_suite = {
	.name = "ext4_buffered_io",
	.test_cases = ext4_buffered_io_cases,
};

kunit_test_suites(&ext4_buffered_io_suite);

MODULE_DESCRIPTION("KUnit tests of ext4 buffered I/O on a real filesystem");
MODULE_LICENSE("GPL");
