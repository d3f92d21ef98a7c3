// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of writeback on the iomap buffered I/O path of ext4: how a
 * dirty range is mapped (ext4_iomap_map_writeback_range(), with
 * ext4_iomap_writeback_len() and ext4_iomap_alloc_delayed()), and how a
 * completed write is finished (ext4_iomap_writeback_submit() and
 * ext4_iomap_ioend_needs_work(), ext4_iomap_end_bio(),
 * ext4_iomap_finish_ioend(), ext4_iomap_update_disksize()).
 *
 * What runs where:
 *  - The mapping cases call ext4_iomap_map_writeback_range() directly (the
 *    _test shim at the end of buffered-iomap.c), on a real file whose blocks
 *    were made written, unwritten or delayed by writes, fallocate and fsync.
 *    That function, its mapping cache in the iomap_writepage_ctx and its
 *    delayed allocation exist only on the iomap path (the buffer_head path
 *    maps from mpage_map_and_submit_extent() with a different unit), so they
 *    run on the iomap configuration of each geometry only.
 *  - ext4_iomap_writeback_len() is arithmetic: one table, no filesystem.
 *  - ENOSPC at writeback and the completion cases are behaviours of both
 *    paths and run on all eight configurations, with the expectation of
 *    each path stated where they differ.  The I/O error and failed
 *    conversion cases work on the iomap_ioends waiting for the completion
 *    work (rewriting their status, or finishing them with
 *    ext4_iomap_end_io()), which only the iomap path queues: they run on
 *    iomap configurations.
 *
 * Completion is held back by a work item that blocks the superblock's
 * rsv_conversion_wq (one active work at a time), where both paths run
 * their completion work.  brd completes a bio during its submission, and
 * the iomap path then finishes the write in the writeback call: the cases
 * that need a write waiting for the work make it complete late, from the
 * test's task after the submission (complete_writes_late()).  Every wait
 * is bounded, and the blocker is released by a KUnit action before the
 * filesystem is unmounted, so that a failing case cannot hang the run.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/falloc.h>
#include <linux/iomap.h>
#include <linux/kthread.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/writeback.h>

#include "fixture.h"
#include "../ext4_extents.h"

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

/* Longest a blocked completion work item waits to be released. */
#define BLOCKER_TIMEOUT		(30 * HZ)
/* Longest a case waits for something that should happen at once. */
#define WAIT_MS			5000

static const struct ext4_kunit_config *cfg(struct kunit *test)
{
	return test->param_value;
}

static const struct ext4_kunit_geometry *geo(struct kunit *test)
{
	return cfg(test)->geo;
}

static bool iomap_path(struct kunit *test)
{
	return cfg(test)->path == EXT4_KUNIT_IOMAP;
}

/* The configurations from @prev on that @want accepts. */
static const void *next_config(const void *prev, char *desc,
			       bool (*want)(const struct ext4_kunit_config *))
{
	const struct ext4_kunit_config *c = prev;

	for (c = c ? c + 1 : ext4_kunit_configs;
	     c < ext4_kunit_configs + EXT4_KUNIT_NR_CONFIGS; c++) {
		if (want(c)) {
			strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
			return c;
		}
	}
	return NULL;
}

static bool is_iomap_config(const struct ext4_kunit_config *c)
{
	return c->path == EXT4_KUNIT_IOMAP;
}

/* The iomap configuration of each geometry. */
static const void *iomap_config_gen_params(struct kunit *test,
					   const void *prev, char *desc)
{
	return next_config(prev, desc, is_iomap_config);
}

/*
 * More than MAX_WRITEPAGES_EXTENT_LEN delayed blocks fit the 8 MiB images
 * with 1k blocks only.  With 2k blocks they would be more than two thirds
 * of the free space, where ext4_nonda_switch() starts writeback and stops
 * delaying allocation; with 4k blocks they are more than the image.
 */
static bool is_1k_config(const struct ext4_kunit_config *c)
{
	return c->geo->blocksize == 1024;
}

static bool is_1k_iomap_config(const struct ext4_kunit_config *c)
{
	return is_iomap_config(c) && is_1k_config(c);
}

static const void *iomap_1k_config_gen_params(struct kunit *test,
					      const void *prev, char *desc)
{
	return next_config(prev, desc, is_1k_iomap_config);
}

static bool is_small_block_config(const struct ext4_kunit_config *c)
{
	return c->geo->blocksize <= 4096;
}

/* Both paths, blocks of up to 4k (scattered blocks fit every image). */
static const void *small_block_config_gen_params(struct kunit *test,
						 const void *prev, char *desc)
{
	return next_config(prev, desc, is_small_block_config);
}

/* Both paths on 1k blocks. */
static const void *config_1k_gen_params(struct kunit *test, const void *prev,
					char *desc)
{
	return next_config(prev, desc, is_1k_config);
}

static loff_t bsize(struct kunit *test)
{
	return geo(test)->blocksize;
}

/* Blocks per cluster. */
static unsigned int ratio(struct kunit *test)
{
	return geo(test)->clustersize / geo(test)->blocksize;
}

static struct super_block *sb_of(struct ext4_kunit_fs *fs)
{
	return fs->mnt->mnt_sb;
}

static s64 free_clusters(struct ext4_kunit_fs *fs)
{
	return percpu_counter_sum(&EXT4_SB(sb_of(fs))->s_freeclusters_counter);
}

static s64 dirty_clusters(struct ext4_kunit_fs *fs)
{
	return percpu_counter_sum(&EXT4_SB(sb_of(fs))->s_dirtyclusters_counter);
}

static unsigned int reserved(struct file *f)
{
	return EXT4_I(file_inode(f))->i_reserved_data_blocks;
}

static loff_t isize(struct file *f)
{
	return i_size_read(file_inode(f));
}

static loff_t disksize(struct file *f)
{
	return READ_ONCE(EXT4_I(file_inode(f))->i_disksize);
}

/* Write a pattern over [pos, pos + len), in pieces of at most 64 KiB. */
static void write_pattern(struct ext4_kunit_fs *fs, struct file *f, u8 seed,
			  loff_t pos, loff_t len)
{
	size_t chunk = min_t(loff_t, len, SZ_64K);
	u8 *buf = kunit_kmalloc(fs->test, chunk, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	while (len > 0) {
		size_t n = min_t(loff_t, len, chunk);

		ext4_kunit_fill(buf, seed, pos, n);
		ext4_kunit_write(fs, f, pos, buf, n);
		pos += n;
		len -= n;
	}
	kunit_kfree(fs->test, buf);
}

static void write_blocks(struct ext4_kunit_fs *fs, struct file *f, u8 seed,
			 ext4_lblk_t lblk, unsigned int nr)
{
	loff_t bs = fs->geo->blocksize;

	write_pattern(fs, f, seed, lblk * bs, nr * bs);
}

/* Fail unless [pos, pos + len) reads back as the pattern of @seed. */
static void expect_pattern(struct ext4_kunit_fs *fs, struct file *f, u8 seed,
			   loff_t pos, size_t len, const char *what)
{
	u8 *buf = kunit_kmalloc(fs->test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	KUNIT_ASSERT_EQ_MSG(fs->test, ext4_kunit_read(fs, f, pos, buf, len),
			    len, "%s: short read at %lld", what, pos);
	for (i = 0; i < len; i++) {
		if (buf[i] != ext4_kunit_pattern(seed, pos + i)) {
			KUNIT_FAIL(fs->test, "%s: byte %lld is %#x, expected %#x",
				   what, pos + i, buf[i],
				   ext4_kunit_pattern(seed, pos + i));
			break;
		}
	}
	kunit_kfree(fs->test, buf);
}

/* The physical block of @lblk, from the on-disk extent tree. */
static ext4_fsblk_t pblk_of(struct ext4_kunit_fs *fs, struct file *f,
			    ext4_lblk_t lblk)
{
	struct inode *inode = file_inode(f);
	struct ext4_ext_path *path;
	struct ext4_extent *ex;
	ext4_fsblk_t pblk = 0;

	down_read(&EXT4_I(inode)->i_data_sem);
	path = ext4_find_extent(inode, lblk, NULL, EXT4_EX_NOCACHE);
	if (!IS_ERR(path)) {
		ex = path[path->p_depth].p_ext;
		if (ex && lblk >= le32_to_cpu(ex->ee_block) &&
		    lblk < le32_to_cpu(ex->ee_block) +
			   ext4_ext_get_actual_len(ex))
			pblk = ext4_ext_pblock(ex) + lblk -
			       le32_to_cpu(ex->ee_block);
		ext4_free_ext_path(path);
	}
	up_read(&EXT4_I(inode)->i_data_sem);
	KUNIT_ASSERT_NE_MSG(fs->test, pblk, 0ULL, "block %u is not mapped",
			    lblk);
	return pblk;
}

/*
 * Give a new file the block states of @layout, one character a block of
 * four-block runs ('W' written, 'U' unwritten, '.' hole), so that runs are
 * whole clusters in the bigalloc geometry too, and check them.
 */
static struct file *make_layout(struct ext4_kunit_fs *fs, const char *name,
				const char *layout)
{
	struct file *f = ext4_kunit_create(fs, name);
	loff_t bs = fs->geo->blocksize;
	unsigned int nr = strlen(layout), i, n;

	for (i = 0; i < nr; i += n) {
		for (n = 1; i + n < nr && layout[i + n] == layout[i]; n++)
			;
		if (layout[i] == 'W')
			write_blocks(fs, f, i, i, n);
		else if (layout[i] == 'U')
			ext4_kunit_fallocate(fs, f, 0, i * bs, n * bs);
	}
	ext4_kunit_fsync(fs, f);
	KUNIT_ASSERT_STREQ_MSG(fs->test, ext4_kunit_extent_map(fs, f, 0, nr),
			       layout, "%s: layout not made", name);
	return f;
}

/* A writeback context as iomap_writepages() sets one up, for one range. */
struct wb_ctx {
	struct writeback_control wbc;
	struct iomap_writepage_ctx wpc;
};

static void wb_init(struct wb_ctx *c, struct file *f, loff_t range_end)
{
	memset(c, 0, sizeof(*c));
	c->wbc.sync_mode = WB_SYNC_ALL;
	c->wbc.nr_to_write = LONG_MAX;
	c->wbc.range_start = 0;
	c->wbc.range_end = range_end;
	c->wpc.inode = file_inode(f);
	c->wpc.wbc = &c->wbc;
}

/* The last byte of block @lblk, or LLONG_MAX for a negative @lblk. */
static loff_t range_end_of(struct kunit *test, int lblk)
{
	return lblk < 0 ? LLONG_MAX : (lblk + 1) * bsize(test) - 1;
}

static int map_at(struct kunit *test, struct wb_ctx *c, ext4_lblk_t lblk,
		  unsigned int dirty_blocks)
{
	return ext4_iomap_map_writeback_range_test(&c->wpc,
						   lblk * bsize(test),
						   dirty_blocks * bsize(test));
}

static const char *iomap_type_name(u16 type)
{
	switch (type) {
	case IOMAP_HOLE:	return "HOLE";
	case IOMAP_DELALLOC:	return "DELALLOC";
	case IOMAP_MAPPED:	return "MAPPED";
	case IOMAP_UNWRITTEN:	return "UNWRITTEN";
	default:		return "?";
	}
}

/*
 * Check the mapping in @c: @type over blocks [@start, @start + @len), at
 * the physical block the extent tree has for @start.
 */
static void expect_iomap(struct ext4_kunit_fs *fs, struct file *f,
			 struct wb_ctx *c, u16 type, ext4_lblk_t start,
			 unsigned int len, const char *what)
{
	struct kunit *test = fs->test;
	const struct iomap *iomap = &c->wpc.iomap;
	u64 seq = READ_ONCE(EXT4_I(file_inode(f))->i_es_seq);
	loff_t bs = bsize(test);

	KUNIT_EXPECT_EQ_MSG(test, iomap->type, type, "%s: type %s, expected %s",
			    what, iomap_type_name(iomap->type),
			    iomap_type_name(type));
	KUNIT_EXPECT_EQ_MSG(test, iomap->offset, start * bs,
			    "%s: mapping starts at block %lld, expected %u",
			    what, iomap->offset / bs, start);
	KUNIT_EXPECT_EQ_MSG(test, iomap->length, (u64)len * bs,
			    "%s: mapping is %llu blocks, expected %u", what,
			    iomap->length / bs, len);
	if (type == IOMAP_MAPPED || type == IOMAP_UNWRITTEN)
		KUNIT_EXPECT_EQ_MSG(test, iomap->addr,
				    (u64)pblk_of(fs, f, start) <<
					file_inode(f)->i_blkbits,
				    "%s: wrong disk address", what);
	else
		KUNIT_EXPECT_EQ_MSG(test, iomap->addr, IOMAP_NULL_ADDR,
				    "%s: a hole has no disk address", what);
	KUNIT_EXPECT_EQ_MSG(test, iomap->validity_cookie, seq,
			    "%s: cookie is not the extent status sequence",
			    what);
}

/* Steps over one file, each mapping one dirty block at @at. */
struct cache_step {
	const char *name;
	bool fresh;		/* map with a new, all-zero context */
	ext4_lblk_t at;
	bool reused;		/* the cached mapping must be kept as it is */
	u16 type;		/* otherwise the new mapping */
	ext4_lblk_t start;
	unsigned int len;
};

static const struct cache_step cache_steps[] = {
	{ "fresh context inside the unwritten extent", .fresh = true, .at = 4,
	  .type = IOMAP_UNWRITTEN, .start = 4, .len = 4 },
	{ "second block of the cached mapping", .at = 5, .reused = true },
	{ "last block of the cached mapping", .at = 7, .reused = true },
	{ "one block past the cached mapping", .at = 8,
	  .type = IOMAP_MAPPED, .start = 8, .len = 4 },
	{ "inside the new cached mapping", .at = 10, .reused = true },
	{ "one block below the cached mapping", .at = 7,
	  .type = IOMAP_UNWRITTEN, .start = 7, .len = 1 },
	{ "fresh context at block 0", .fresh = true, .at = 0,
	  .type = IOMAP_MAPPED, .start = 0, .len = 4 },
	{ "fresh context where the last one was cached", .fresh = true,
	  .at = 2, .type = IOMAP_MAPPED, .start = 2, .len = 2 },
};

/*
 * A mapping cached in the writeback context is reused while the offset is
 * inside it and the extent status sequence has not moved: no lookup, the
 * context is left as it was.  An offset outside it, or a new context whose
 * mapping is all zeros, is looked up again.  Nothing is allocated.
 */
static void map_reuses_cached_mapping(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = make_layout(fs, "cache", "WWWWUUUUWWWW");
	struct wb_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	s64 free = free_clusters(fs);
	struct iomap before;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	wb_init(c, f, LLONG_MAX);
	for (i = 0; i < ARRAY_SIZE(cache_steps); i++) {
		const struct cache_step *s = &cache_steps[i];

		if (s->fresh)
			wb_init(c, f, LLONG_MAX);
		before = c->wpc.iomap;
		KUNIT_ASSERT_EQ_MSG(test, map_at(test, c, s->at, 1), 0, "%s",
				    s->name);
		if (s->reused) {
			bool same = !memcmp(&before, &c->wpc.iomap,
					    sizeof(before));

			KUNIT_EXPECT_TRUE_MSG(test, same,
					      "%s: mapping looked up again (now blocks %lld+%llu)",
					      s->name,
					      c->wpc.iomap.offset / bsize(test),
					      c->wpc.iomap.length / bsize(test));
		} else {
			expect_iomap(fs, f, c, s->type, s->start, s->len,
				     s->name);
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, free_clusters(fs), free,
			    "mapping allocated or freed clusters");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 12),
			   "WWWWUUUUWWWW");
}

/*
 * A change of the extent status tree anywhere in the file (a punch hole
 * far from the cached mapping) moves the sequence, and the next offset
 * inside the cached mapping is looked up again; the new cookie is the new
 * sequence.
 */
static void map_remaps_after_extent_change(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = make_layout(fs, "seq", "WWWWUUUUWWWW");
	struct inode *inode = file_inode(f);
	struct wb_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	loff_t bs = bsize(test);
	u64 seq;

	KUNIT_ASSERT_NOT_NULL(test, c);
	wb_init(c, f, LLONG_MAX);
	KUNIT_ASSERT_EQ(test, map_at(test, c, 4, 1), 0);
	expect_iomap(fs, f, c, IOMAP_UNWRITTEN, 4, 4, "first mapping");
	seq = c->wpc.iomap.validity_cookie;

	ext4_kunit_fallocate(fs, f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     10 * bs, bs);
	KUNIT_ASSERT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 12),
			   "WWWWUUUUWW.W");
	KUNIT_ASSERT_NE_MSG(test, (u64)READ_ONCE(EXT4_I(inode)->i_es_seq), seq,
			    "punch hole did not move the extent status sequence");

	KUNIT_ASSERT_EQ(test, map_at(test, c, 5, 1), 0);
	expect_iomap(fs, f, c, IOMAP_UNWRITTEN, 5, 3,
		     "after a punch hole elsewhere");
	KUNIT_EXPECT_NE(test, c->wpc.iomap.validity_cookie, seq);
}

/* Clusters of blocks [start, start + nr) as a bitmask (blocks below 64). */
static u64 clusters_of(struct kunit *test, unsigned int start,
		       unsigned int nr)
{
	u64 mask = 0;
	unsigned int b;

	for (b = start; b < start + nr; b++)
		mask |= BIT_ULL(b / ratio(test));
	return mask;
}

/*
 * Delayed blocks [del, del + del_len), on top of blocks [pre, pre + pre_len)
 * written and synced first, are mapped for writeback at @at, with @dirty
 * blocks dirty there and a range ending at block @end (-1: LLONG_MAX).  The
 * mapping allocates one unwritten extent of @len blocks (@len_bigalloc on
 * bigalloc, 0 meaning the same) from @at.
 */
struct delalloc_case {
	const char *name;
	unsigned int pre, pre_len;
	unsigned int del, del_len;
	unsigned int at, dirty;
	int end;
	unsigned int len, len_bigalloc;
};

static const struct delalloc_case delalloc_cases[] = {
	/* The delayed extent, not the range, bounds the allocation. */
	{ "10 delayed blocks then a hole, whole file", .del = 0, .del_len = 10,
	  .at = 0, .dirty = 1, .end = -1, .len = 10 },
	{ "range ending at block 3", .del = 0, .del_len = 10, .at = 0,
	  .dirty = 1, .end = 3, .len = 4 },
	{ "range ending at block 2, inside a cluster", .del = 0, .del_len = 10,
	  .at = 0, .dirty = 1, .end = 2, .len = 3 },
	{ "range ending before the dirty blocks", .del = 0, .del_len = 10,
	  .at = 2, .dirty = 3, .end = 0, .len = 3 },
	{ "from the middle of the delayed extent", .del = 0, .del_len = 10,
	  .at = 6, .dirty = 1, .end = -1, .len = 4 },
};

/*
 * Bigalloc edges: delayed blocks that start or end inside a cluster, and
 * next to a cluster that is already allocated (whose blocks take no
 * reservation).  ext4_ext_map_blocks() maps blocks of an allocated cluster
 * on their own, so on bigalloc the extent stops at such a cluster edge.
 */
static const struct delalloc_case cluster_cases[] = {
	{ "starting and ending inside clusters", .del = 2, .del_len = 4,
	  .at = 2, .dirty = 1, .end = -1, .len = 4 },
	{ "starting inside an allocated cluster", .pre = 0, .pre_len = 1,
	  .del = 1, .del_len = 5, .at = 1, .dirty = 1, .end = -1, .len = 5,
	  .len_bigalloc = 3 },
	{ "ending inside an allocated cluster", .pre = 7, .pre_len = 1,
	  .del = 2, .del_len = 5, .at = 2, .dirty = 1, .end = -1, .len = 5,
	  .len_bigalloc = 2 },
	{ "one block in the middle of a cluster", .del = 5, .del_len = 1,
	  .at = 5, .dirty = 1, .end = -1, .len = 1 },
};

static void check_delalloc_case(struct kunit *test, struct ext4_kunit_fs *fs,
				const struct delalloc_case *dc, int idx)
{
	unsigned int nr = max(dc->del + dc->del_len, dc->pre + dc->pre_len) + 1;
	unsigned int len = ratio(test) > 1 && dc->len_bigalloc ?
			   dc->len_bigalloc : dc->len;
	u64 pre_cl = dc->pre_len ? clusters_of(test, dc->pre, dc->pre_len) : 0;
	u64 del_cl = clusters_of(test, dc->del, dc->del_len);
	u64 new_cl = clusters_of(test, dc->at, len) & ~pre_cl;
	u64 left_cl = 0;
	char *want = kunit_kzalloc(test, nr + 1, GFP_KERNEL);
	struct wb_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	s64 free0, dirty0, free1;
	unsigned int b;
	char name[16];
	struct file *f;

	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, c);
	snprintf(name, sizeof(name), "da%d", idx);
	f = ext4_kunit_create(fs, name);
	if (dc->pre_len) {
		write_blocks(fs, f, 1, dc->pre, dc->pre_len);
		ext4_kunit_fsync(fs, f);
	}
	dirty0 = dirty_clusters(fs);
	write_blocks(fs, f, 2, dc->del, dc->del_len);

	/* Reservations are counted in clusters not allocated yet. */
	KUNIT_ASSERT_EQ_MSG(test, reserved(f), hweight64(del_cl & ~pre_cl),
			    "%s: reservation after the write", dc->name);
	KUNIT_ASSERT_EQ_MSG(test, dirty_clusters(fs) - dirty0,
			    (s64)hweight64(del_cl & ~pre_cl),
			    "%s: dirty clusters after the write", dc->name);

	free0 = free_clusters(fs);
	wb_init(c, f, range_end_of(test, dc->end));
	KUNIT_ASSERT_EQ_MSG(test, map_at(test, c, dc->at, dc->dirty), 0, "%s",
			    dc->name);
	expect_iomap(fs, f, c, IOMAP_UNWRITTEN, dc->at, len, dc->name);

	for (b = 0; b < nr; b++) {
		bool pre = b >= dc->pre && b < dc->pre + dc->pre_len;
		bool del = b >= dc->del && b < dc->del + dc->del_len;
		bool alloc = b >= dc->at && b < dc->at + len;

		want[b] = pre ? 'W' : alloc ? 'U' : '.';
		if (del && !alloc)
			left_cl |= clusters_of(test, b, 1);
	}
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, nr), want,
			       "%s: extent tree", dc->name);
	for (b = 0; b < nr; b++) {
		bool del = b >= dc->del && b < dc->del + dc->del_len;

		if (want[b] == '.')
			want[b] = del ? 'D' : '?';
	}
	/* Blocks that were never delayed may or may not be cached as holes. */
	for (b = 0; b < nr; b++) {
		char *st = ext4_kunit_status_map(fs, f, b, 1);

		if (want[b] != '?')
			KUNIT_EXPECT_EQ_MSG(test, st[0], want[b],
					    "%s: extent status of block %u",
					    dc->name, b);
		else
			KUNIT_EXPECT_NE_MSG(test, st[0], 'D',
					    "%s: block %u became delayed",
					    dc->name, b);
	}

	/*
	 * The allocated clusters hold no reservation any more, also those
	 * that still have delayed blocks (they are allocated now).
	 */
	left_cl &= ~(pre_cl | new_cl);
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), hweight64(left_cl),
			    "%s: reservation after mapping", dc->name);
	KUNIT_EXPECT_EQ_MSG(test, dirty_clusters(fs) - dirty0,
			    (s64)hweight64(left_cl),
			    "%s: dirty clusters after mapping", dc->name);
	free1 = free_clusters(fs);
	KUNIT_EXPECT_EQ_MSG(test, free0 - free1, (s64)hweight64(new_cl),
			    "%s: free clusters used by mapping", dc->name);

	/* Writeback finishes the job: all written, every counter back. */
	ext4_kunit_fsync(fs, f);
	for (b = 0; b < nr; b++) {
		bool pre = b >= dc->pre && b < dc->pre + dc->pre_len;
		bool del = b >= dc->del && b < dc->del + dc->del_len;

		want[b] = pre || del ? 'W' : '.';
	}
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, nr), want,
			       "%s: extent tree after fsync", dc->name);
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), 0U, "%s: reservation after fsync",
			    dc->name);
	KUNIT_EXPECT_EQ_MSG(test, dirty_clusters(fs), dirty0,
			    "%s: dirty clusters after fsync", dc->name);
	KUNIT_EXPECT_EQ_MSG(test, free0 - free_clusters(fs),
			    (s64)hweight64(del_cl & ~pre_cl),
			    "%s: free clusters used in all", dc->name);
	ext4_kunit_drop_cache(fs, f);
	expect_pattern(fs, f, 2, dc->del * bsize(test),
		       dc->del_len * bsize(test), dc->name);
}

/*
 * Delayed blocks are allocated as one unwritten extent, as long as the
 * writeback length (the dirty range, or the writeback range when it goes
 * further) and the delayed extent allow; the reservation goes with them.
 */
static void map_allocates_delayed_extent(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(delalloc_cases); i++)
		check_delalloc_case(test, fs, &delalloc_cases[i], i);
}

static void map_delayed_cluster_edges(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cluster_cases); i++)
		check_delalloc_case(test, fs, &cluster_cases[i], i);
}

/*
 * A delayed extent longer than MAX_WRITEPAGES_EXTENT_LEN is allocated that
 * many blocks at a time, whatever the writeback range.
 */
static void map_caps_delayed_allocation(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "long");
	unsigned int nr = MAX_WRITEPAGES_EXTENT_LEN + 52, b;
	struct wb_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	char *st;

	KUNIT_ASSERT_NOT_NULL(test, c);
	write_blocks(fs, f, 3, 0, nr);
	st = ext4_kunit_status_map(fs, f, 0, nr);
	KUNIT_ASSERT_EQ_MSG(test, strspn(st, "D"), (size_t)nr,
			    "the write did not leave %u delayed blocks", nr);
	wb_init(c, f, LLONG_MAX);
	KUNIT_ASSERT_EQ(test, map_at(test, c, 0, 1), 0);
	expect_iomap(fs, f, c, IOMAP_UNWRITTEN, 0, MAX_WRITEPAGES_EXTENT_LEN,
		     "long delayed extent");
	st = ext4_kunit_status_map(fs, f, 0, nr);
	for (b = 0; b < nr; b++) {
		char want = b < MAX_WRITEPAGES_EXTENT_LEN ? 'U' : 'D';

		if (st[b] != want) {
			KUNIT_FAIL(test, "extent status of block %u is %c, expected %c",
				   b, st[b], want);
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, reserved(f), nr - MAX_WRITEPAGES_EXTENT_LEN);
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_EQ(test, reserved(f), 0U);
}

/* Mappings of "WWWWUUUU....WWWW" and past its end. */
static const struct cache_step kind_steps[] = {
	{ "written", .at = 1, .type = IOMAP_MAPPED, .start = 1, .len = 3 },
	{ "unwritten", .at = 4, .type = IOMAP_UNWRITTEN, .start = 4, .len = 4 },
	{ "hole between extents", .at = 9, .type = IOMAP_HOLE, .start = 9,
	  .len = 3 },
	{ "written after a hole", .at = 12, .type = IOMAP_MAPPED, .start = 12,
	  .len = 4 },
	/* The length asked for: the writeback length, capped. */
	{ "hole past the last extent", .at = 16, .type = IOMAP_HOLE,
	  .start = 16, .len = MAX_WRITEPAGES_EXTENT_LEN },
};

/*
 * Written, unwritten and hole ranges map to IOMAP_MAPPED, IOMAP_UNWRITTEN
 * and IOMAP_HOLE with the extent's address and length, allocating nothing.
 * A hole under dirty data cannot happen on this path (the mapping warns
 * once); the warning is expected here and suppressed.
 */
static void map_reports_block_states(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = make_layout(fs, "kinds", "WWWWUUUU....WWWW");
	struct wb_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	s64 free = free_clusters(fs);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	for (i = 0; i < ARRAY_SIZE(kind_steps); i++) {
		const struct cache_step *s = &kind_steps[i];
		int ret;

		wb_init(c, f, LLONG_MAX);
		kunit_warning_suppress(test)
			ret = map_at(test, c, s->at, 1);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "%s", s->name);
		expect_iomap(fs, f, c, s->type, s->start, s->len, s->name);
	}
	KUNIT_EXPECT_EQ_MSG(test, free_clusters(fs), free,
			    "mapping allocated or freed clusters");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 17),
			   "WWWWUUUU....WWWW.");
}

struct len_case {
	const char *name;
	unsigned int blkbits;
	loff_t offset;
	unsigned int dirty_len;
	loff_t range_end;
	unsigned int blocks;
};

#define B4K(n)	((loff_t)(n) << 12)
#define B1K(n)	((loff_t)(n) << 10)

static const struct len_case len_cases[] = {
	{ "one dirty block, range ends with it", 12, 0, 4096, B4K(1) - 1, 1 },
	{ "range ends one block past the dirty end", 12, 0, 4096,
	  B4K(2) - 1, 2 },
	{ "range ends on the first byte of the next block", 12, 0, 4096,
	  B4K(1), 2 },
	{ "range ends inside the last dirty block", 12, 0, 8192, 5000, 2 },
	{ "range ends before the dirty range", 12, B4K(2), 3 * 4096, 0, 3 },
	{ "range ends before the dirty end", 12, B4K(2), 3 * 4096,
	  B4K(3) + 7, 3 },
	{ "2047 blocks", 12, 0, 4096, B4K(2047) - 1, 2047 },
	{ "2048 blocks", 12, 0, 4096, B4K(2048) - 1, 2048 },
	{ "2049 blocks capped", 12, 0, 4096, B4K(2049) - 1, 2048 },
	{ "LLONG_MAX", 12, B4K(1), 4096, LLONG_MAX, 2048 },
	/* A 32-bit range_end >> blkbits would make these 6 and 1 blocks. */
	{ "range ends past 2^32 blocks", 12, 0, 4096, B4K((1ULL << 32) + 5),
	  2048 },
	{ "range ends at block 2^32", 12, 0, 4096, B4K(1ULL << 32), 2048 },
	{ "near the last logical block", 12, B4K(EXT4_MAX_LOGICAL_BLOCK - 3),
	  4096, LLONG_MAX, 4 },
	{ "at the last logical block", 12, B4K(EXT4_MAX_LOGICAL_BLOCK), 4096,
	  LLONG_MAX, 1 },
	{ "1k blocks, a dirty folio", 10, 0, 4096, B1K(4) - 1, 4 },
	{ "1k blocks, range ends one block past", 10, B1K(4), 4096,
	  B1K(9) - 1, 5 },
	{ "1k blocks, range past 2^32 blocks", 10, B1K(4), 4096,
	  B1K((1ULL << 32) + 2), 2048 },
	{ "1k blocks, dirty end wins", 10, B1K(8), 2048, B1K(3), 2 },
};

/* ext4_iomap_writeback_len() reads only i_blkbits of the inode. */
static void writeback_len_table(struct kunit *test)
{
	struct inode *inode = kunit_kzalloc(test, sizeof(*inode), GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, inode);
	for (i = 0; i < ARRAY_SIZE(len_cases); i++) {
		const struct len_case *lc = &len_cases[i];
		unsigned int blocks;

		inode->i_blkbits = lc->blkbits;
		blocks = ext4_iomap_writeback_len_test(inode, lc->offset,
						       lc->dirty_len,
						       lc->range_end);
		KUNIT_EXPECT_EQ_MSG(test, blocks, lc->blocks, "%s", lc->name);
	}
}

/* Clusters that mballoc can hand out now, without a commit. */
static u64 buddy_free_clusters(struct ext4_kunit_fs *fs)
{
	struct super_block *sb = sb_of(fs);
	ext4_group_t g;
	u64 sum = 0;

	for (g = 0; g < ext4_get_groups_count(sb); g++)
		sum += ext4_get_group_info(sb, g)->bb_free;
	return sum;
}

#define ENOSPC_FILE_BYTES	(4 * PAGE_SIZE)

/*
 * Leave the filesystem with enough free clusters by its counters for
 * ENOSPC_FILE_BYTES, but none that mballoc can use until the running
 * transaction commits: fill it with a file, commit, and truncate the file.
 * Blocks freed in a running transaction go back to mballoc only at commit
 * (they might still be needed if the transaction never commits), while the
 * free cluster counters count them at once.  No reserved pool for metadata,
 * so that filling takes every cluster, and a commit interval long enough
 * that no periodic commit lands in the case.
 */
static struct ext4_kunit_fs *mount_enospc(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test),
						    "commit=600");
	struct file *big;
	loff_t ret;

	atomic64_set(&EXT4_SB(sb_of(fs))->s_resv_clusters, 0);
	big = ext4_kunit_create(fs, "big");
	ret = vfs_fallocate(big, 0, 0, EXT4_KUNIT_IMAGE_BYTES);
	KUNIT_ASSERT_EQ_MSG(test, ret, -ENOSPC, "filling the filesystem");
	ext4_kunit_fsync(fs, big);
	KUNIT_ASSERT_EQ(test, free_clusters(fs), 0LL);
	KUNIT_ASSERT_EQ(test, buddy_free_clusters(fs), 0ULL);
	ext4_kunit_truncate(fs, big, 0);
	KUNIT_ASSERT_GE(test, free_clusters(fs),
			(s64)(ENOSPC_FILE_BYTES / geo(test)->clustersize + 1));
	KUNIT_ASSERT_EQ_MSG(test, buddy_free_clusters(fs), 0ULL,
			    "truncate gave blocks to mballoc before a commit");
	return fs;
}

/*
 * Writeback runs out of space allocating delayed blocks, while clusters
 * freed in the running transaction wait for its commit: it forces the
 * commit and retries, and the data reaches the disk.  Both paths.
 */
static void enospc_retries_after_commit(struct kunit *test)
{
	struct ext4_kunit_fs *fs = mount_enospc(test);
	struct file *f = ext4_kunit_create(fs, "late");
	journal_t *journal = EXT4_SB(sb_of(fs))->s_journal;
	unsigned int nr = ENOSPC_FILE_BYTES / bsize(test), b;
	tid_t tid;
	char *map;

	write_pattern(fs, f, 4, 0, ENOSPC_FILE_BYTES);
	KUNIT_ASSERT_EQ(test, buddy_free_clusters(fs), 0ULL);
	tid = READ_ONCE(journal->j_commit_sequence);
	ext4_kunit_fsync(fs, f);
	/* The commit forced by writeback, then the one of fsync. */
	KUNIT_EXPECT_GE_MSG(test, READ_ONCE(journal->j_commit_sequence) - tid,
			    2U, "no commit before the retry");
	map = ext4_kunit_extent_map(fs, f, 0, nr);
	for (b = 0; b < nr; b++)
		KUNIT_EXPECT_EQ_MSG(test, map[b], 'W', "block %u", b);
	KUNIT_EXPECT_EQ(test, reserved(f), 0U);
	KUNIT_EXPECT_EQ(test, disksize(f), (loff_t)ENOSPC_FILE_BYTES);
	ext4_kunit_drop_cache(fs, f);
	expect_pattern(fs, f, 4, 0, ENOSPC_FILE_BYTES, "after ENOSPC retry");
}

static int count_free_calls;

/* No free clusters, wherever the freed ones are. */
static ext4_fsblk_t no_free_clusters(struct super_block *sb)
{
	count_free_calls++;
	return 0;
}

/*
 * When no cluster is free, nor will be after a commit, the allocation fails
 * for good: the delayed blocks of the data that could not be written are
 * dropped with their reservation, nothing is left dirty to fail again
 * forever, and on the iomap path the error reaches fsync.
 * ext4_count_free_clusters() is stubbed to say that no cluster is free,
 * which the real one never says while the running transaction holds freed
 * clusters.
 */
static void enospc_fails_cleanly(struct kunit *test)
{
	struct ext4_kunit_fs *fs = mount_enospc(test);
	struct file *f = ext4_kunit_create(fs, "lost");
	struct address_space *mapping = f->f_mapping;
	unsigned int nr = ENOSPC_FILE_BYTES / bsize(test), b;
	s64 dirty0 = dirty_clusters(fs);
	char *st, *map;
	int ret;

	write_pattern(fs, f, 5, 0, ENOSPC_FILE_BYTES);
	KUNIT_ASSERT_GT(test, reserved(f), 0U);

	count_free_calls = 0;
	kunit_activate_static_stub(test, ext4_count_free_clusters,
				   no_free_clusters);
	ret = vfs_fsync(f, 0);
	kunit_deactivate_static_stub(test, ext4_count_free_clusters);
	KUNIT_EXPECT_GT_MSG(test, count_free_calls, 0,
			    "writeback never asked for free clusters");
	/*
	 * The buffer_head path takes every -ENOSPC of ext4_do_writepages()
	 * for one a commit may cure, and loses this one after giving up on
	 * the data.
	 */
	KUNIT_EXPECT_EQ_MSG(test, ret, iomap_path(test) ? -ENOSPC : 0, "fsync");

	st = ext4_kunit_status_map(fs, f, 0, nr);
	map = ext4_kunit_extent_map(fs, f, 0, nr);
	for (b = 0; b < nr; b++) {
		KUNIT_EXPECT_NE_MSG(test, st[b], 'D', "block %u still delayed", b);
		KUNIT_EXPECT_EQ_MSG(test, map[b], '.', "block %u allocated", b);
	}
	KUNIT_EXPECT_EQ(test, reserved(f), 0U);
	KUNIT_EXPECT_EQ(test, dirty_clusters(fs), dirty0);
	KUNIT_EXPECT_FALSE(test, mapping_tagged(mapping, PAGECACHE_TAG_DIRTY));
	KUNIT_EXPECT_FALSE(test, mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK));
	/* The error was reported once; there is nothing left to write. */
	KUNIT_EXPECT_EQ(test, vfs_fsync(f, 0), 0);
}

/*
 * Unwritten blocks written over become written exactly where the writes
 * were (whole blocks), and i_disksize moves to the end of the write, which
 * iomap clamps to i_size.  The buffer_head path, with dioread_nolock (the
 * default), converts at I/O completion too and gives the same maps.
 */
struct convert_case {
	const char *name;
	/* [blocks + bytes) of up to two writes into "UUUUUUUU" */
	int start[2], start_bytes[2], end[2], end_bytes[2];
	const char *map;
};

static const struct convert_case convert_cases[] = {
	{ "blocks 2-4", { 2 }, { 0 }, { 5 }, { 0 }, "UUWWWUUU" },
	{ "bytes inside block 6", { 6 }, { 10 }, { 6 }, { 20 }, "UUUUUUWU" },
	{ "blocks 0 and 7", { 0, 7 }, { 0, 0 }, { 1, 8 }, { 0, 0 },
	  "WUUUUUUW" },
	{ "end of block 1 to start of block 3", { 1 }, { 100 }, { 3 }, { 100 },
	  "UWWWUUUU" },
};

static void completion_converts_written_range(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	loff_t bs = bsize(test);
	size_t i;
	int w;

	for (i = 0; i < ARRAY_SIZE(convert_cases); i++) {
		const struct convert_case *cc = &convert_cases[i];
		loff_t end = 0;
		char name[16];
		struct file *f;

		snprintf(name, sizeof(name), "conv%zu", i);
		f = ext4_kunit_create(fs, name);
		ext4_kunit_fallocate(fs, f, FALLOC_FL_KEEP_SIZE, 0, 8 * bs);
		ext4_kunit_fsync(fs, f);
		for (w = 0; w < 2 && cc->end[w]; w++) {
			loff_t s = cc->start[w] * bs + cc->start_bytes[w];
			loff_t e = cc->end[w] * bs + cc->end_bytes[w];

			write_pattern(fs, f, 6, s, e - s);
			end = max(end, e);
		}
		KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, 8),
				       "UUUUUUUU", "%s: before writeback",
				       cc->name);
		ext4_kunit_fsync(fs, f);
		KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, 8),
				       cc->map, "%s", cc->name);
		KUNIT_EXPECT_EQ_MSG(test, isize(f), end, "%s: i_size", cc->name);
		KUNIT_EXPECT_EQ_MSG(test, disksize(f), end, "%s: i_disksize",
				    cc->name);
		ext4_kunit_drop_cache(fs, f);
		for (w = 0; w < 2 && cc->end[w]; w++) {
			loff_t s = cc->start[w] * bs + cc->start_bytes[w];
			loff_t e = cc->end[w] * bs + cc->end_bytes[w];

			expect_pattern(fs, f, 6, s, e - s, cc->name);
		}
	}
}

/*
 * A work item that keeps the superblock's rsv_conversion_wq busy: with one
 * active work at a time, the inodes' completion work waits behind it.
 */
struct wq_blocker {
	struct work_struct work;
	struct completion started;
	struct completion release;
};

static void wq_blocker_fn(struct work_struct *work)
{
	struct wq_blocker *b = container_of(work, struct wq_blocker, work);

	complete(&b->started);
	wait_for_completion_timeout(&b->release, BLOCKER_TIMEOUT);
}

static void wq_blocker_release(struct wq_blocker *b)
{
	complete_all(&b->release);
	flush_work(&b->work);
}

KUNIT_DEFINE_ACTION_WRAPPER(wq_blocker_release_action, wq_blocker_release,
			    struct wq_blocker *);

/* To be called after the mount, so that its release runs before unmount. */
static struct wq_blocker *block_completion(struct ext4_kunit_fs *fs)
{
	struct kunit *test = fs->test;
	struct wq_blocker *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, b);
	INIT_WORK(&b->work, wq_blocker_fn);
	init_completion(&b->started);
	init_completion(&b->release);
	ret = kunit_add_action_or_reset(test, wq_blocker_release_action, b);
	KUNIT_ASSERT_EQ(test, ret, 0);
	queue_work(EXT4_SB(sb_of(fs))->rsv_conversion_wq, &b->work);
	KUNIT_ASSERT_NE_MSG(test, wait_for_completion_timeout(&b->started,
							      10 * HZ), 0UL,
			    "the blocker never ran");
	return b;
}

/* Whether a folio of [start, end) is under writeback (or dirty). */
static bool range_has(struct address_space *mapping, loff_t start, loff_t end,
		      bool dirty)
{
	pgoff_t index;

	for (index = start >> PAGE_SHIFT; index <= (end - 1) >> PAGE_SHIFT;
	     index++) {
		struct folio *folio = filemap_get_folio(mapping, index);
		bool ret;

		if (IS_ERR(folio))
			continue;
		ret = dirty ? folio_test_dirty(folio) :
			      folio_test_writeback(folio);
		folio_put(folio);
		if (ret)
			return true;
	}
	return false;
}

static bool wait_writeback_done(struct address_space *mapping, loff_t start,
				loff_t end)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(WAIT_MS);

	while (range_has(mapping, start, end, false)) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(1000, 2000);
	}
	return true;
}

/*
 * Completions that come after the submission, as an interrupt brings them
 * from an asynchronous device.  brd completes a bio inside submit_bio(),
 * where the iomap path's writeback call catches the write and finishes it
 * itself.  Held by the fixture (ext4_kunit_hold_bios()) and completed from
 * the test's task once the submission is over, they go to the completion
 * work instead, as late completions do.  To be called after
 * block_completion(): the actions run in reverse order, so a failing case
 * completes the bios while the work is still blocked, and then releases it.
 */
static struct ext4_kunit_held_bios *complete_writes_late(struct kunit *test)
{
	return ext4_kunit_hold_bios(test, NULL);
}

/*
 * Start writeback of [start, end) and wait for it to be submitted, with
 * the completions of writes that need the completion work held back as
 * late ones when @late; those are then waiting for the work.
 */
static void submit_range(struct kunit *test, struct file *f, loff_t start,
			 loff_t end, bool late)
{
	struct ext4_kunit_held_bios *held = NULL;

	if (late)
		held = complete_writes_late(test);

	KUNIT_ASSERT_EQ(test, filemap_fdatawrite_range(f->f_mapping, start,
						       end - 1), 0);
	if (held)
		ext4_kunit_complete_held_bios(held);
}

enum gate_setup {
	GATE_WRITTEN,		/* blocks 0-3 written and synced */
	GATE_HALF_BLOCK,	/* half of block 0 written and synced */
	GATE_UNWRITTEN,		/* blocks 0-3 fallocated (i_size 4 blocks) */
};

/*
 * A write [start, end) (in half blocks, so that a write can end inside a
 * block) to a new file is written back with the completion work blocked,
 * after a remount in place with @opts when given.  On the iomap path, when
 * the write completes after its submission: whether it waits for the work,
 * and i_disksize (in half blocks) and the extent map of the first blocks
 * until the work has run; then i_disksize and the extent map after it,
 * which are also what every write has when writeback returns if it
 * completed during its submission.
 */
struct gate_case {
	const char *name;
	const char *opts;
	enum gate_setup setup;
	int start, end;
	bool waits;
	int disksize_before;
	const char *map_before, *map_after;
	int disksize_after;
};

static const struct gate_case gate_cases[] = {
	/* iomap's own completion in bio context: nothing to do. */
	{ "overwrite below i_disksize", NULL, GATE_WRITTEN, 2, 4,
	  false, 8, "WWWW", "WWWW", 8 },
	/* A written block, but i_disksize to move. */
	{ "append inside a written block", NULL, GATE_HALF_BLOCK, 1, 2,
	  true, 1, "W...", "W...", 2 },
	/* New blocks are allocated unwritten, and i_disksize moves. */
	{ "append of new blocks", NULL, GATE_WRITTEN, 8, 12,
	  true, 8, "WWWWUU", "WWWWWW", 12 },
	{ "write into unwritten blocks", NULL, GATE_UNWRITTEN, 2, 4,
	  true, 8, "UUUU", "UWUU", 8 },
	/*
	 * Every iomap write may have to abort the journal: in the work.  Last:
	 * the mount keeps the option.
	 */
	{ "overwrite with data_err=abort", "data_err=abort", GATE_WRITTEN, 2, 4,
	  true, 8, "WWWW", "WWWW", 8 },
};

/* One gate case, with its write completing late or during submission. */
static void gate_run(struct kunit *test, struct ext4_kunit_fs *fs,
		     const struct gate_case *gc, const char *name, bool late)
{
	unsigned int nr = strlen(gc->map_after);
	loff_t half = bsize(test) / 2;
	loff_t start = gc->start * half, end = gc->end * half;
	bool waits = late && gc->waits;
	struct address_space *mapping;
	struct wq_blocker *b;
	struct file *f;

	f = ext4_kunit_create(fs, name);
	mapping = f->f_mapping;
	switch (gc->setup) {
	case GATE_WRITTEN:
		write_blocks(fs, f, 7, 0, 4);
		break;
	case GATE_HALF_BLOCK:
		write_pattern(fs, f, 7, 0, half);
		break;
	case GATE_UNWRITTEN:
		ext4_kunit_fallocate(fs, f, 0, 0, 8 * half);
		break;
	}
	ext4_kunit_fsync(fs, f);

	b = block_completion(fs);
	write_pattern(fs, f, 8, start, end - start);
	submit_range(test, f, start, end, late);
	KUNIT_EXPECT_EQ_MSG(test, range_has(mapping, start, end, false), waits,
			    "%s (%s): under writeback after submission",
			    gc->name, name);
	KUNIT_EXPECT_FALSE_MSG(test, range_has(mapping, start, end, true),
			       "%s (%s): dirty after submission", gc->name,
			       name);
	KUNIT_EXPECT_EQ_MSG(test, disksize(f),
			    (waits ? gc->disksize_before :
				     gc->disksize_after) * half,
			    "%s (%s): i_disksize before completion", gc->name,
			    name);
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, nr),
			       waits ? gc->map_before : gc->map_after,
			       "%s (%s): before completion", gc->name, name);

	wq_blocker_release(b);
	KUNIT_ASSERT_TRUE_MSG(test, wait_writeback_done(mapping, start, end),
			      "%s (%s): writeback did not finish", gc->name,
			      name);
	KUNIT_EXPECT_EQ_MSG(test, disksize(f), gc->disksize_after * half,
			    "%s (%s): i_disksize after completion", gc->name,
			    name);
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, nr),
			       gc->map_after, "%s (%s): after completion",
			       gc->name, name);
	ext4_kunit_drop_cache(fs, f);
	expect_pattern(fs, f, 8, start, end - start, gc->name);
	kunit_release_action(test, wq_blocker_release_action, b);
}

/*
 * The completion work runs only when the write needs it: unwritten extents
 * to convert, i_disksize to move, or data_err=abort; and not even then when
 * the write completes during its own submission, as brd's do.
 *
 * On the iomap path, a write that needs the work but completes during its
 * submission is finished by the writeback call that submitted it, before
 * filemap_fdatawrite_range() returns (struct ext4_iomap_wb_batch); one that
 * does not need it is finished by iomap in bio context.  Completed late,
 * the writes that need the work wait for it, with nothing on disk changed
 * yet.
 *
 * The buffer_head path finishes every one of these writes before
 * filemap_fdatawrite_range() returns, work or not: i_disksize moves in
 * write_end (allocated block) or at submission (new blocks), and
 * ext4_do_writepages() holds a reference to the io_end until after the
 * submission, so with brd it drops the last one and converts the unwritten
 * extents itself; data_err=abort only matters there after an I/O error.
 * Its completions cannot be made late here: that runs on the iomap path.
 */
static void completion_runs_only_when_needed(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gate_cases); i++) {
		const struct gate_case *gc = &gate_cases[i];
		char name[16];

		if (gc->opts)
			ext4_kunit_reconfigure(fs, gc->opts);
		snprintf(name, sizeof(name), "gate%zu", i);
		gate_run(test, fs, gc, name, false);
		if (!iomap_path(test))
			continue;
		snprintf(name, sizeof(name), "gate%zu-late", i);
		gate_run(test, fs, gc, name, true);
	}
}

/*
 * A writeback call holds the writes it caught completing during their
 * submission under writeback until it finishes them; once they cover
 * MAX_WRITEPAGES_EXTENT_LEN blocks, it hands them to the completion work
 * instead.  One and a half times that many new blocks are written back in
 * one call with the work blocked (on 1k blocks, the only images where so
 * many delayed blocks fit).  On the iomap path the start of the range
 * waits for the work, with its extents still unwritten, while the end of
 * it is finished by the call.  The buffer_head path finishes every io_end
 * (one per extent mapped) in the call.
 */
static void completion_batch_is_bounded(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "bound");
	struct address_space *mapping = f->f_mapping;
	unsigned int nr = MAX_WRITEPAGES_EXTENT_LEN * 3 / 2;
	bool iomap = iomap_path(test);
	loff_t bs = bsize(test);
	loff_t len = nr * bs;
	struct wq_blocker *b;

	b = block_completion(fs);
	write_pattern(fs, f, 12, 0, len);
	KUNIT_ASSERT_EQ(test, filemap_fdatawrite_range(mapping, 0, len - 1), 0);
	KUNIT_EXPECT_FALSE_MSG(test, range_has(mapping, 0, len, true),
			       "dirty after submission");
	KUNIT_EXPECT_EQ_MSG(test, range_has(mapping, 0, bs, false), iomap,
			    "block 0 under writeback after submission");
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, 1),
			       iomap ? "U" : "W", "block 0 before completion");
	KUNIT_EXPECT_FALSE_MSG(test, range_has(mapping, len - bs, len, false),
			       "block %u under writeback after submission",
			       nr - 1);
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, nr - 1, 1),
			       "W", "block %u before completion", nr - 1);

	wq_blocker_release(b);
	KUNIT_ASSERT_TRUE_MSG(test, wait_writeback_done(mapping, 0, len),
			      "writeback did not finish");
	KUNIT_EXPECT_EQ(test, disksize(f), len);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 1), "W");
	ext4_kunit_drop_cache(fs, f);
	expect_pattern(fs, f, 12, 0, len, "after completion");
}

/*
 * The same bound by number: 36 writes of one new block each (every other
 * block, so that no two merge), written back in one call with the work
 * blocked.  A writeback call holds at most EXT4_IOMAP_BATCH_MAX (16) writes
 * before it hands them to the work, so on the iomap path the first 32 wait
 * for the work and the last 4 are finished by the call.  The buffer_head
 * path finishes them all in the call.
 */
static void completion_batch_is_bounded_by_count(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "scatter");
	struct address_space *mapping = f->f_mapping;
	bool iomap = iomap_path(test);
	loff_t bs = bsize(test);
	unsigned int nr = 36, i;
	struct wq_blocker *b;

	b = block_completion(fs);
	for (i = 0; i < nr; i++)
		write_blocks(fs, f, 13, 2 * i, 1);
	KUNIT_ASSERT_EQ(test, filemap_fdatawrite_range(mapping, 0,
						       2 * nr * bs - 1), 0);
	/* Folios may hold several writes: look at the blocks' extents. */
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_STREQ_MSG(test,
				       ext4_kunit_extent_map(fs, f, 2 * i, 1),
				       iomap && i < 32 ? "U" : "W",
				       "write %u (block %u) before completion",
				       i, 2 * i);
	KUNIT_EXPECT_EQ_MSG(test, range_has(mapping, 0, bs, false), iomap,
			    "block 0 under writeback after submission");
	KUNIT_EXPECT_FALSE_MSG(test, range_has(mapping, (2 * nr - 2) * bs,
					       (2 * nr - 1) * bs, false),
			       "block %u under writeback after submission",
			       2 * nr - 2);

	wq_blocker_release(b);
	KUNIT_ASSERT_TRUE_MSG(test, wait_writeback_done(mapping, 0, 2 * nr * bs),
			      "writeback did not finish");
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_STREQ_MSG(test,
				       ext4_kunit_extent_map(fs, f, 2 * i, 1),
				       "W", "block %u after completion", 2 * i);
	ext4_kunit_drop_cache(fs, f);
	for (i = 0; i < nr; i++)
		expect_pattern(fs, f, 13, 2 * i * bs, bs, "after completion");
}

struct truncate_job {
	struct file *file;
	loff_t size;
	int ret;
	struct completion done;
	struct wq_blocker *blocker;
	struct folio *held;	/* locked by the case, to stop the truncate */
};

static int truncate_fn(void *data)
{
	struct truncate_job *job = data;

	job->ret = vfs_truncate(&job->file->f_path, job->size);
	/* For every waiter: the case and its cleanup both wait. */
	complete_all(&job->done);
	return 0;
}

static void truncate_job_unhold(struct truncate_job *job)
{
	if (job->held) {
		folio_unlock(job->held);
		folio_put(job->held);
		job->held = NULL;
	}
}

/*
 * The truncate waits for the writeback that waits for the blocker, and for
 * the folio lock the case holds: release both.  If the truncate still does
 * not finish, leak the job rather than free it under the thread.
 */
static void truncate_job_finish(void *data)
{
	struct truncate_job *job = data;

	wq_blocker_release(job->blocker);
	truncate_job_unhold(job);
	if (wait_for_completion_timeout(&job->done, 10 * HZ))
		kfree(job);
}

/*
 * A truncate down that lands while an appending write is in flight: the
 * completion must not move i_disksize past the new i_size.  The truncate
 * runs in a second thread, where it sets both sizes and then waits for the
 * folios under writeback; the completion work is let go once the sizes
 * have changed.  The case holds the lock of the last folio meanwhile, so
 * that the truncate stops there until the completion has been checked:
 * ext4_truncate() sets i_disksize to i_size again afterwards, and would
 * hide a completion that went past it.  On the iomap path the write
 * completes late (complete_writes_late()), as on a device that completes
 * in an interrupt: brd would complete it during its submission, where it
 * is finished at once.  The buffer_head path has finished the write at
 * submission (see completion_runs_only_when_needed()), with i_disksize
 * capped at i_size then, and must end the same.
 */
static void completion_caps_disksize_at_isize(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "race");
	struct address_space *mapping = f->f_mapping;
	bool iomap = iomap_path(test);
	loff_t bs = bsize(test);
	unsigned long deadline;
	struct truncate_job *job;
	struct task_struct *task;
	struct wq_blocker *b;
	struct folio *folio;
	int ret;

	write_blocks(fs, f, 9, 0, 4);
	ext4_kunit_fsync(fs, f);
	b = block_completion(fs);
	write_blocks(fs, f, 9, 4, 4);
	submit_range(test, f, 4 * bs, 8 * bs, iomap);
	KUNIT_EXPECT_EQ(test, range_has(mapping, 4 * bs, 8 * bs, false), iomap);
	KUNIT_EXPECT_EQ(test, disksize(f), (iomap ? 4 : 8) * bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 8),
			   iomap ? "WWWWUUUU" : "WWWWWWWW");

	folio = filemap_lock_folio(mapping, (8 * bs - 1) >> PAGE_SHIFT);
	KUNIT_ASSERT_FALSE(test, IS_ERR(folio));
	job = kzalloc_obj(*job);
	if (!job) {
		folio_unlock(folio);
		folio_put(folio);
	}
	KUNIT_ASSERT_NOT_NULL(test, job);
	job->file = f;
	job->size = 6 * bs;
	job->blocker = b;
	job->held = folio;
	init_completion(&job->done);
	ret = kunit_add_action_or_reset(test, truncate_job_finish, job);
	KUNIT_ASSERT_EQ(test, ret, 0);
	task = kthread_run(truncate_fn, job, "ext4-kunit-trunc");
	if (IS_ERR(task))
		complete_all(&job->done);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	deadline = jiffies + msecs_to_jiffies(WAIT_MS);
	while (isize(f) != 6 * bs && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	KUNIT_ASSERT_EQ_MSG(test, isize(f), 6 * bs, "truncate did not start");
	KUNIT_EXPECT_EQ(test, disksize(f), 6 * bs);

	wq_blocker_release(b);
	KUNIT_ASSERT_TRUE_MSG(test, wait_writeback_done(mapping, 4 * bs, 8 * bs),
			      "writeback did not finish");
	KUNIT_ASSERT_FALSE_MSG(test, completion_done(&job->done),
			       "truncate went past the folio the case holds");
	KUNIT_EXPECT_EQ_MSG(test, disksize(f), 6 * bs,
			    "completion moved i_disksize past i_size");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 8), "WWWWWWWW");

	truncate_job_unhold(job);
	KUNIT_ASSERT_NE_MSG(test, wait_for_completion_timeout(&job->done,
							      10 * HZ), 0UL,
			    "truncate did not finish");
	KUNIT_EXPECT_EQ(test, job->ret, 0);
	KUNIT_EXPECT_EQ(test, isize(f), 6 * bs);
	KUNIT_EXPECT_EQ(test, disksize(f), 6 * bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 8), "WWWWWW..");

	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "race");
	KUNIT_EXPECT_EQ(test, isize(f), 6 * bs);
	expect_pattern(fs, f, 9, 0, 6 * bs, "after remount");
}

/*
 * A write whose I/O fails changes nothing on disk: the unwritten extent
 * stays unwritten (the block reads as zeros), i_disksize does not move,
 * and the error reaches fsync.  brd does not fail writes: the write
 * completes late (complete_writes_late()), and the error is put into the
 * ioend while it waits for the completion work.
 */
static void completion_io_error_changes_nothing(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "eio");
	struct ext4_inode_info *ei = EXT4_I(file_inode(f));
	struct address_space *mapping = f->f_mapping;
	loff_t bs = bsize(test);
	struct iomap_ioend *ioend;
	struct wq_blocker *b;
	unsigned long flags;
	int nr = 0;
	u8 *buf;

	write_blocks(fs, f, 10, 0, 2);
	ext4_kunit_fsync(fs, f);
	b = block_completion(fs);
	write_blocks(fs, f, 10, 2, 2);
	submit_range(test, f, 0, 4 * bs, true);
	spin_lock_irqsave(&ei->i_completed_io_lock, flags);
	list_for_each_entry(ioend, &ei->i_rsv_conversion_list, io_list) {
		ioend->io_bio.bi_status = BLK_STS_IOERR;
		nr++;
	}
	spin_unlock_irqrestore(&ei->i_completed_io_lock, flags);
	KUNIT_ASSERT_GT_MSG(test, nr, 0, "no ioend waits for the work");

	wq_blocker_release(b);
	KUNIT_ASSERT_TRUE(test, wait_writeback_done(mapping, 0, 4 * bs));
	KUNIT_EXPECT_EQ(test, vfs_fsync(f, 0), -EIO);
	KUNIT_EXPECT_EQ(test, disksize(f), 2 * bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 4), "WWUU");

	ext4_kunit_drop_cache(fs, f);
	buf = kunit_kzalloc(test, 2 * bs, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, ext4_kunit_read(fs, f, 2 * bs, buf, 2 * bs),
			(size_t)(2 * bs));
	KUNIT_EXPECT_TRUE_MSG(test, !memchr_inv(buf, 0, 2 * bs),
			      "blocks whose write failed do not read as zeros");
}

static int convert_calls;

static int convert_fails(handle_t *handle, struct inode *inode, loff_t offset,
			 ssize_t len, ext4_lblk_t *converted)
{
	convert_calls++;
	return -EIO;
}

/*
 * A completion that cannot convert the extents it wrote (a metadata read
 * error, say) leaves them unwritten, does not move i_disksize over them,
 * and fails the write, so that fsync reports it.  The conversion is
 * stubbed to fail; a stub applies to the test's own task only, so the
 * write completes late (complete_writes_late()) and the test runs the
 * inode's completion (ext4_iomap_end_io(), what the work runs)
 * itself while the work is held back, and the work then finds nothing left.
 */
static void completion_failure_changes_nothing(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "fail");
	struct ext4_inode_info *ei = EXT4_I(file_inode(f));
	struct address_space *mapping = f->f_mapping;
	loff_t bs = bsize(test);
	struct wq_blocker *b;

	write_blocks(fs, f, 11, 0, 2);
	ext4_kunit_fsync(fs, f);
	b = block_completion(fs);
	write_blocks(fs, f, 11, 2, 2);
	submit_range(test, f, 0, 4 * bs, true);
	KUNIT_ASSERT_TRUE(test, range_has(mapping, 2 * bs, 4 * bs, false));
	KUNIT_ASSERT_FALSE(test, list_empty(&ei->i_rsv_conversion_list));

	convert_calls = 0;
	kunit_activate_static_stub(test, ext4_convert_unwritten_extents,
				   convert_fails);
	ext4_iomap_end_io(ei);
	kunit_deactivate_static_stub(test, ext4_convert_unwritten_extents);
	KUNIT_EXPECT_GT(test, convert_calls, 0);
	KUNIT_EXPECT_FALSE(test, range_has(mapping, 0, 4 * bs, false));
	wq_blocker_release(b);

	KUNIT_EXPECT_EQ(test, vfs_fsync(f, 0), -EIO);
	KUNIT_EXPECT_EQ(test, disksize(f), 2 * bs);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 4), "WWUU");
}

static struct kunit_case ext4_iomap_writeback_cases[] = {
	KUNIT_CASE_PARAM(map_reuses_cached_mapping, iomap_config_gen_params),
	KUNIT_CASE_PARAM(map_remaps_after_extent_change,
			 iomap_config_gen_params),
	KUNIT_CASE_PARAM(map_allocates_delayed_extent, iomap_config_gen_params),
	KUNIT_CASE_PARAM(map_delayed_cluster_edges, iomap_config_gen_params),
	KUNIT_CASE_PARAM(map_caps_delayed_allocation,
			 iomap_1k_config_gen_params),
	KUNIT_CASE_PARAM(map_reports_block_states, iomap_config_gen_params),
	KUNIT_CASE(writeback_len_table),
	KUNIT_CASE_PARAM(enospc_retries_after_commit, config_gen_params),
	KUNIT_CASE_PARAM(enospc_fails_cleanly, config_gen_params),
	KUNIT_CASE_PARAM(completion_converts_written_range, config_gen_params),
	KUNIT_CASE_PARAM(completion_runs_only_when_needed, config_gen_params),
	KUNIT_CASE_PARAM(completion_batch_is_bounded, config_1k_gen_params),
	KUNIT_CASE_PARAM(completion_batch_is_bounded_by_count,
			 small_block_config_gen_params),
	KUNIT_CASE_PARAM(completion_caps_disksize_at_isize, config_gen_params),
	KUNIT_CASE_PARAM(completion_io_error_changes_nothing,
			 iomap_config_gen_params),
	KUNIT_CASE_PARAM(completion_failure_changes_nothing,
			 iomap_config_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_writeback_suite = {
	.name = "ext4_iomap_writeback",
	.test_cases = ext4_iomap_writeback_cases,
};

kunit_test_suites(&ext4_iomap_writeback_suite);

MODULE_DESCRIPTION("KUnit tests of ext4 writeback through iomap");
MODULE_LICENSE("GPL");
