// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of buffered writes that fill an ext4 filesystem.
 *
 * Each case fills a fresh filesystem through buffered writes until a write
 * fails, on every geometry and on both buffered I/O paths, with delayed
 * allocation and without.  The same must hold on both paths:
 *
 *  - the write that finds no room fails with -ENOSPC (after at most one
 *    short write), and only when the filesystem is full: no more free
 *    clusters than the reserve pool for metadata (s_resv_clusters), which
 *    buffered writes may not use, and the few a last extent may need;
 *  - every byte a write reported as written reads back with its own data,
 *    from the page cache, after an fsync that succeeds, and after a remount:
 *    writeback never drops data it accepted, whatever it had to retry;
 *  - once the file is truncated to 0 and the filesystem synced, the free and
 *    dirty cluster counters are back at their values before the fill, and
 *    the inode holds no reserved cluster: nothing leaks, neither from the
 *    write that failed nor from its delayed reservation.
 */
#include <kunit/test.h>
#include <linux/percpu_counter.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "fixture.h"

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

#define FILL_CHUNK	SZ_64K
#define FILL_SEED	0x5e
/* Clusters past the reserve pool that a last write may leave unused. */
#define FILL_SLACK	4

/*
 * The buffer_head path prepares a folio at a time: write_begin reserves or
 * allocates every block of the folio the write copies into, and when one
 * of them does not fit it fails the write for the whole folio.  With large
 * folios the last write (FILL_CHUNK, one folio) can so leave up to a folio
 * of free clusters unused, less a block.  The iomap path maps extent by
 * extent and ends the write short at the last free block.  Without THP
 * a folio is a page, and the slack stays a few clusters.
 */
static s64 fill_slack(const struct ext4_kunit_config *cfg)
{
	if (cfg->path == EXT4_KUNIT_IOMAP ||
	    !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		return FILL_SLACK;
	return FILL_SLACK + FILL_CHUNK / cfg->geo->clustersize;
}

struct cluster_counters {
	s64 free;
	s64 dirty;
};

/* Commit everything, then read the exact counters. */
static void read_counters(struct ext4_kunit_fs *fs,
			  struct cluster_counters *c)
{
	struct ext4_sb_info *sbi = EXT4_SB(fs->mnt->mnt_sb);

	ext4_kunit_sync_fs(fs);
	c->free = percpu_counter_sum(&sbi->s_freeclusters_counter);
	c->dirty = percpu_counter_sum(&sbi->s_dirtyclusters_counter);
}

/*
 * Write the pattern in FILL_CHUNK pieces from offset 0 until a write fails;
 * return how many bytes the writes reported as written, and the error.
 */
static loff_t fill(struct kunit *test, struct file *file, u8 *buf,
		   ssize_t *err)
{
	unsigned int max = EXT4_KUNIT_IMAGE_BYTES / FILL_CHUNK + 2;
	unsigned int shorts = 0, i;
	loff_t pos = 0, at;
	ssize_t ret = 0;

	for (i = 0; i < max; i++) {
		ext4_kunit_fill(buf, FILL_SEED, pos, FILL_CHUNK);
		at = pos;
		ret = kernel_write(file, buf, FILL_CHUNK, &at);
		if (ret < 0)
			break;
		KUNIT_ASSERT_LE(test, ret, (ssize_t)FILL_CHUNK);
		KUNIT_ASSERT_EQ_MSG(test, at, pos + ret,
				    "write at %lld moved the position wrongly",
				    pos);
		pos += ret;
		if (ret < FILL_CHUNK)
			shorts++;
	}
	KUNIT_ASSERT_LT_MSG(test, i, max,
			    "%lld bytes written and the filesystem never filled",
			    pos);
	KUNIT_EXPECT_LE_MSG(test, shorts, 1U,
			    "%u short writes before the error", shorts);
	*err = ret;
	return pos;
}

/* Every byte in [0, len) of @file holds the fill pattern. */
static void expect_filled(struct ext4_kunit_fs *fs, struct file *file,
			  loff_t len, u8 *buf, u8 *want, const char *when)
{
	struct kunit *test = fs->test;
	loff_t pos;
	size_t n, i;

	KUNIT_ASSERT_EQ_MSG(test, i_size_read(file_inode(file)), len,
			    "i_size %s", when);
	for (pos = 0; pos < len; pos += n) {
		n = min_t(loff_t, FILL_CHUNK, len - pos);
		KUNIT_ASSERT_EQ_MSG(test, ext4_kunit_read(fs, file, pos, buf, n),
				    n, "short read at %lld %s", pos, when);
		ext4_kunit_fill(want, FILL_SEED, pos, n);
		if (!memcmp(buf, want, n))
			continue;
		for (i = 0; buf[i] == want[i]; i++)
			;
		KUNIT_FAIL(test, "byte %lld is %#x, not %#x, %s",
			   pos + i, buf[i], want[i], when);
		return;
	}
}

static void fill_and_release(struct kunit *test, const char *opts)
{
	const struct ext4_kunit_config *cfg = test->param_value;
	struct cluster_counters before, full, after;
	struct ext4_kunit_fs *fs;
	struct ext4_sb_info *sbi;
	struct file *file;
	u8 *buf, *want;
	ssize_t err;
	s64 resv;
	loff_t len;

	buf = kunit_kmalloc(test, FILL_CHUNK, GFP_KERNEL);
	want = kunit_kmalloc(test, FILL_CHUNK, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, want);

	fs = ext4_kunit_mount(test, cfg, opts);
	sbi = EXT4_SB(fs->mnt->mnt_sb);
	resv = atomic64_read(&sbi->s_resv_clusters);
	file = ext4_kunit_create(fs, "fill");
	read_counters(fs, &before);
	KUNIT_ASSERT_EQ(test, before.dirty, 0);

	len = fill(test, file, buf, &err);
	KUNIT_EXPECT_EQ_MSG(test, err, (ssize_t)-ENOSPC,
			    "the write at %lld failed otherwise", len);
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(file, 0), 0,
			    "fsync after the fill");
	read_counters(fs, &full);
	KUNIT_EXPECT_EQ(test, full.dirty, 0);
	KUNIT_EXPECT_LE_MSG(test, full.free, resv + fill_slack(cfg),
			    "%lld bytes written, %lld clusters still free of %lld before, reserve pool %lld",
			    len, full.free, before.free, resv);
	KUNIT_EXPECT_GT_MSG(test, len, 0LL, "nothing written");
	expect_filled(fs, file, len, buf, want, "in the page cache");

	ext4_kunit_remount(fs);
	file = ext4_kunit_open(fs, "fill");
	expect_filled(fs, file, len, buf, want, "after a remount");

	ext4_kunit_truncate(fs, file, 0);
	ext4_kunit_fsync(fs, file);
	read_counters(fs, &after);
	KUNIT_EXPECT_EQ_MSG(test, after.free, before.free,
			    "free clusters after truncating to 0");
	KUNIT_EXPECT_EQ_MSG(test, after.dirty, before.dirty,
			    "dirty clusters after truncating to 0");
	KUNIT_EXPECT_EQ_MSG(test,
			    EXT4_I(file_inode(file))->i_reserved_data_blocks,
			    0U, "clusters the inode still holds reserved");
}

/* Delayed allocation (the default): space is reserved at write time. */
static void fill_delalloc(struct kunit *test)
{
	fill_and_release(test, NULL);
}

/* Without delayed allocation, write_begin allocates. */
static void fill_nodelalloc(struct kunit *test)
{
	fill_and_release(test, "nodelalloc");
}

static struct kunit_case ext4_enospc_cases[] = {
	KUNIT_CASE_PARAM(fill_delalloc, config_gen_params),
	KUNIT_CASE_PARAM(fill_nodelalloc, config_gen_params),
	{}
};

static struct kunit_suite ext4_enospc_suite = {
	.name = "ext4_enospc",
	.test_cases = ext4_enospc_cases,
};

kunit_test_suites(&ext4_enospc_suite);
