// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of iomap's per-block folio state and of iomap_zero_range().
 *
 * The folios belong to a test inode on an anonymous superblock, with no
 * device and no filesystem behind it.  Its block size is smaller than the
 * folio (UML folios are one 4 KiB page), so that iomap tracks uptodate and
 * dirty state per block (struct iomap_folio_state): 512 B, 1 KiB and 2 KiB
 * blocks, plus 4 KiB blocks for a folio without per-block state.  Mappings
 * come from test iomap_ops that report the extent type a table row asks
 * for, and the blocks that zeroing has to read around are "read" by
 * ->read_folio_range from a byte pattern, so no bio is ever built.
 *
 * Covered, as regression tests of fixes that are in mainline:
 *  - iomap_clear_range_dirty() clears the dirty bits of the blocks wholly
 *    inside the range and no others, and nothing for a range that holds
 *    no whole block;
 *  - iomap_invalidate_folio() on part of a folio clears those blocks' dirty
 *    bits only, so that writeback then writes the other dirty blocks and
 *    not these; on the whole folio it drops the per-block state and the
 *    folio's dirty flag;
 *  - iomap_zero_range() reports did_zero only when it zeroed a folio, zeroes
 *    exactly the range asked for and leaves the other bytes alone.
 *
 * Left to ext4 (fs/ext4/tests/zero-range-test.c): that the zeroed blocks of
 * a dirty range over an unwritten extent are still unwritten once written
 * back.  That is up to the filesystem's writeback and extent conversion, so
 * it needs an extent tree and a device.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/highmem.h>
#include <linux/iomap.h>
#include <linux/pagemap.h>
#include <linux/sizes.h>
#include <linux/writeback.h>

#include "internal.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

/* Two folios, so that a range can cross from one folio into the next. */
#define IOMAP_KUNIT_FOLIOS	2
#define IOMAP_KUNIT_SIZE	(IOMAP_KUNIT_FOLIOS * SZ_4K)
#define IOMAP_KUNIT_MAX_BLOCKS	(SZ_4K / SZ_512)

/*
 * The byte at file offset @pos, on the "disk" and in the folios a test puts
 * in the page cache.  Never zero, so that zeroing shows, and different from
 * one block to the next, so that bytes at the wrong place show too.
 */
static u8 iomap_kunit_pattern(loff_t pos)
{
	return 1 + pos % 251;
}

static void iomap_kunit_fill(struct folio *folio, size_t off, size_t len)
{
	loff_t pos = folio_pos(folio) + off;

	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		u8 *kaddr = kmap_local_folio(folio, off);
		size_t i;

		for (i = 0; i < n; i++)
			kaddr[i] = iomap_kunit_pattern(pos + i);
		kunmap_local(kaddr);
		off += n;
		pos += n;
		len -= n;
	}
}

static const struct address_space_operations iomap_kunit_aops = {
	.dirty_folio		= iomap_dirty_folio,
	.release_folio		= iomap_release_folio,
	.invalidate_folio	= iomap_invalidate_folio,
};

static int iomap_kunit_init_fs_context(struct fs_context *fc)
{
	return 0;
}

static struct file_system_type iomap_kunit_fs_type = {
	.name			= "iomap_kunit",
	.init_fs_context	= iomap_kunit_init_fs_context,
	.kill_sb		= kill_anon_super,
};

KUNIT_DEFINE_ACTION_WRAPPER(iomap_kunit_deactivate_super, deactivate_super,
			    struct super_block *);
KUNIT_DEFINE_ACTION_WRAPPER(iomap_kunit_iput, iput, struct inode *);

/*
 * A regular file of IOMAP_KUNIT_SIZE bytes with 1 << @blkbits byte blocks,
 * on a superblock of its own.  Its folios are iomap's: ->dirty_folio and
 * ->invalidate_folio are iomap's, and iput() at the end of the test
 * truncates them through iomap_invalidate_folio().
 */
static struct inode *iomap_kunit_inode(struct kunit *test,
				       unsigned int blkbits)
{
	struct fs_context *fc;
	struct super_block *sb;
	struct inode *inode;

	if (PAGE_SIZE != SZ_4K)
		kunit_skip(test, "the expectations are written for 4 KiB folios");

	fc = fs_context_for_mount(&iomap_kunit_fs_type, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fc);
	sb = sget_fc(fc, NULL, set_anon_super_fc);
	put_fs_context(fc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sb);
	/* sget_fc() returns a new superblock locked, as for a mount */
	up_write(&sb->s_umount);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, iomap_kunit_deactivate_super,
						  sb));

	inode = new_inode(sb);
	KUNIT_ASSERT_NOT_NULL(test, inode);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, iomap_kunit_iput, inode));
	inode->i_mode = S_IFREG | 0644;
	inode->i_blkbits = blkbits;
	inode->i_mapping->a_ops = &iomap_kunit_aops;
	i_size_write(inode, IOMAP_KUNIT_SIZE);
	return inode;
}

/*
 * Put folio @index of @inode in the page cache, uptodate with the pattern,
 * as if read from disk, and dirty if @dirty (through ->dirty_folio, as
 * when a mapped folio is written to, which makes every block dirty).
 */
static void iomap_kunit_cache_folio(struct kunit *test, struct inode *inode,
				    pgoff_t index, bool dirty)
{
	struct folio *folio;

	folio = filemap_grab_folio(inode->i_mapping, index);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(folio), "folio %lu: error %ld",
			       index, PTR_ERR(folio));
	KUNIT_ASSERT_EQ(test, folio_size(folio), SZ_4K);
	iomap_kunit_fill(folio, 0, folio_size(folio));
	folio_mark_uptodate(folio);
	if (dirty)
		folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
}

static struct folio *iomap_kunit_lock_folio(struct kunit *test,
					    struct inode *inode, pgoff_t index)
{
	struct folio *folio = filemap_lock_folio(inode->i_mapping, index);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(folio),
			       "folio %lu is not in the page cache", index);
	return folio;
}

static void iomap_kunit_put_folio(struct folio *folio)
{
	folio_unlock(folio);
	folio_put(folio);
}

/*
 * Compare the per-block state of @folio with @want, one character per
 * block: @set for a block whose state @test_block() reports, '.' for one
 * it does not.  Name each block that is wrong.
 */
static void iomap_kunit_expect_blocks(struct kunit *test, struct folio *folio,
				      bool (*test_block)(struct folio *folio,
							 unsigned int blk),
				      char set, const char *want,
				      const char *what)
{
	struct inode *inode = folio->mapping->host;
	unsigned int nr = i_blocks_per_folio(inode, folio);
	char got[IOMAP_KUNIT_MAX_BLOCKS + 1];
	unsigned int blk;

	KUNIT_ASSERT_LE(test, nr, IOMAP_KUNIT_MAX_BLOCKS);
	for (blk = 0; blk < nr; blk++)
		got[blk] = test_block(folio, blk) ? set : '.';
	got[nr] = '\0';

	for (blk = 0; blk < nr; blk++) {
		size_t start = (size_t)blk << inode->i_blkbits;

		KUNIT_EXPECT_EQ_MSG(test, got[blk], want[blk],
				    "folio %lu block %u (bytes %zu-%zu of the folio) %s state: '%c', expected '%c' (blocks %s, expected %.*s)",
				    folio->index, blk, start,
				    start + i_blocksize(inode) - 1, what,
				    got[blk], want[blk], got, nr, want);
	}
}

/* A folio with one block has no per-block state. */
static void iomap_kunit_expect_no_state(struct kunit *test,
					struct folio *folio)
{
	if (i_blocks_per_folio(folio->mapping->host, folio) == 1)
		KUNIT_EXPECT_NULL_MSG(test, folio_get_private(folio),
				      "folio %lu has per-block state with a single block",
				      folio->index);
}

/*
 * Clearing the dirty state of part of a folio.  Every folio starts wholly
 * dirty and uptodate.  'D' marks a block that must still be dirty.
 */
struct iomap_kunit_clear_case {
	const char *name;
	unsigned int blkbits;
	size_t off;
	size_t len;
	const char *dirty;
};

static const struct iomap_kunit_clear_case iomap_kunit_clear_cases[] = {
	{ "512: whole folio",		  9, 0,    4096, "........" },
	{ "512: aligned middle",	  9, 1024, 2048, "DD....DD" },
	{ "512: unaligned start",	  9, 100,  3996, "D......." },
	{ "512: unaligned end",		  9, 0,    4000, ".......D" },
	{ "512: unaligned both ends",	  9, 100,  3900, "D......D" },
	{ "512: inside one block",	  9, 1000, 10,   "DDDDDDDD" },
	{ "512: last block",		  9, 3584, 512,  "DDDDDDD." },
	{ "1k: whole folio",		 10, 0,    4096, "...." },
	{ "1k: aligned middle",		 10, 1024, 2048, "D..D" },
	{ "1k: unaligned start",	 10, 100,  3996, "D..." },
	{ "1k: unaligned end",		 10, 0,    4000, "...D" },
	{ "1k: unaligned both ends",	 10, 100,  3900, "D..D" },
	/* the old code computed a negative block count here */
	{ "1k: inside one block",	 10, 1000, 10,   "DDDD" },
	{ "1k: up to a block's end",	 10, 1500, 548,  "DDDD" },
	{ "1k: last block",		 10, 3072, 1024, "DDD." },
	{ "2k: whole folio",		 11, 0,    4096, ".." },
	{ "2k: unaligned start",	 11, 100,  3996, "D." },
	{ "2k: unaligned end",		 11, 0,    4000, ".D" },
	{ "2k: unaligned both ends",	 11, 100,  3900, "DD" },
	{ "2k: inside one block",	 11, 1000, 10,   "DD" },
	{ "2k: last block",		 11, 2048, 2048, "D." },
	/* no per-block state: a no-op, the folio stays dirty */
	{ "4k: whole folio",		 12, 0,    4096, "D" },
	{ "4k: inside the block",	 12, 1000, 10,   "D" },
};

KUNIT_ARRAY_PARAM_DESC(iomap_kunit_clear, iomap_kunit_clear_cases, name);

/*
 * iomap_clear_range_dirty() is where the dirty bits of a range are cleared,
 * for a partial invalidation and for writeback (the whole folio).  Call it
 * directly: iomap_invalidate_folio() never passes it the whole folio.
 */
static void iomap_clear_range_dirty_test(struct kunit *test)
{
	const struct iomap_kunit_clear_case *c = test->param_value;
	struct inode *inode = iomap_kunit_inode(test, c->blkbits);
	unsigned int nr = SZ_4K >> c->blkbits;
	struct folio *folio;

	KUNIT_ASSERT_EQ_MSG(test, strlen(c->dirty), nr, "bad table row");
	iomap_kunit_cache_folio(test, inode, 0, true);
	folio = iomap_kunit_lock_folio(test, inode, 0);

	iomap_kunit_expect_blocks(test, folio, iomap_folio_block_dirty, 'D',
				  "DDDDDDDD" + 8 - nr, "dirty (before)");
	iomap_clear_range_dirty(folio, c->off, c->len);
	iomap_kunit_expect_blocks(test, folio, iomap_folio_block_dirty, 'D',
				  c->dirty, "dirty");
	iomap_kunit_expect_blocks(test, folio, iomap_folio_block_uptodate,
				  'U', "UUUUUUUU" + 8 - nr, "uptodate");
	/* the folio flag is left to the callers */
	KUNIT_EXPECT_TRUE_MSG(test, folio_test_dirty(folio),
			      "folio dirty flag cleared");
	KUNIT_EXPECT_TRUE_MSG(test, folio_test_uptodate(folio),
			      "folio uptodate flag cleared");
	KUNIT_EXPECT_EQ_MSG(test, !!folio_get_private(folio), nr > 1,
			    "per-block state present");
	iomap_kunit_put_folio(folio);
}

/*
 * Invalidating part of a wholly dirty folio, as truncate and hole punching
 * do for the folio they end in.  'D' marks a block that must still be dirty.
 */
struct iomap_kunit_inval_case {
	const char *name;
	unsigned int blkbits;
	size_t off;
	size_t len;
	const char *dirty;
	bool folio_dirty;	/* the folio's dirty flag afterwards */
	bool has_state;		/* per-block state kept */
};

static const struct iomap_kunit_inval_case iomap_kunit_inval_cases[] = {
	{ "512: whole folio",	      9, 0,    4096, "........", false, false },
	{ "512: tail",		      9, 2048, 2048, "DDDD....", true,  true },
	{ "512: unaligned tail",      9, 1536 + 100, 2460, "DDDD....", true, true },
	{ "1k: whole folio",	     10, 0,    4096, "....",	 false, false },
	{ "1k: tail",		     10, 2048, 2048, "DD..",	 true,  true },
	{ "1k: unaligned tail",	     10, 1536, 2560, "DD..",	 true,  true },
	{ "1k: head",		     10, 0,    2048, "..DD",	 true,  true },
	{ "1k: unaligned middle",    10, 1000, 2100, "D..D",	 true,  true },
	{ "1k: inside one block",    10, 1000, 10,   "DDDD",	 true,  true },
	{ "2k: whole folio",	     11, 0,    4096, "..",	 false, false },
	{ "2k: tail",		     11, 2048, 2048, "D.",	 true,  true },
	{ "2k: unaligned tail",	     11, 1536, 2560, "D.",	 true,  true },
	{ "4k: whole folio",	     12, 0,    4096, ".",	 false, false },
	{ "4k: inside the block",    12, 1000, 10,   "D",	 true,  false },
};

KUNIT_ARRAY_PARAM_DESC(iomap_kunit_inval, iomap_kunit_inval_cases, name);

/* Writeback that records which blocks of folio 0 it was asked to write. */
struct iomap_kunit_wb {
	struct iomap_writepage_ctx wpc;
	struct kunit *test;
	char written[IOMAP_KUNIT_MAX_BLOCKS + 1];
};

static ssize_t iomap_kunit_writeback_range(struct iomap_writepage_ctx *wpc,
					   struct folio *folio, u64 pos,
					   unsigned int len, u64 end_pos)
{
	struct iomap_kunit_wb *wb = container_of(wpc, struct iomap_kunit_wb,
						 wpc);
	struct inode *inode = wpc->inode;
	u64 off = pos - folio_pos(folio);

	KUNIT_EXPECT_EQ_MSG(wb->test, folio->index, 0,
			    "folio %lu written back", folio->index);
	KUNIT_EXPECT_TRUE_MSG(wb->test,
			      IS_ALIGNED(off | len, i_blocksize(inode)),
			      "writeback of [%llu, %llu) is not block aligned",
			      pos, pos + len);
	if (folio->index == 0)
		memset(wb->written + (off >> inode->i_blkbits), 'W',
		       len >> inode->i_blkbits);

	/* no I/O: the range is "on disk" at once, as on a ramdisk */
	wpc->iomap.type = IOMAP_MAPPED;
	iomap_finish_folio_write(inode, folio, len);
	return len;
}

static int iomap_kunit_writeback_submit(struct iomap_writepage_ctx *wpc,
					int error)
{
	/* ->writeback_range never leaves a context to submit */
	return -EIO;
}

static const struct iomap_writeback_ops iomap_kunit_writeback_ops = {
	.writeback_range	= iomap_kunit_writeback_range,
	.writeback_submit	= iomap_kunit_writeback_submit,
};

/*
 * Write back the dirty folios of @inode and check that exactly the blocks
 * of folio 0 that are 'D' in @dirty were written.
 */
static void iomap_kunit_expect_writeback(struct kunit *test,
					 struct inode *inode,
					 const char *dirty)
{
	struct writeback_control wbc = {
		.sync_mode	= WB_SYNC_ALL,
		.nr_to_write	= LONG_MAX,
		.range_start	= 0,
		.range_end	= LLONG_MAX,
	};
	struct iomap_kunit_wb wb = {
		.wpc = {
			.inode	= inode,
			.wbc	= &wbc,
			.ops	= &iomap_kunit_writeback_ops,
		},
		.test = test,
	};
	unsigned int nr = SZ_4K >> inode->i_blkbits;
	unsigned int blk;
	int ret;

	memset(wb.written, '.', nr);
	wb.written[nr] = '\0';
	ret = iomap_writepages(&wb.wpc);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "writeback");

	for (blk = 0; blk < nr; blk++)
		KUNIT_EXPECT_EQ_MSG(test, wb.written[blk],
				    dirty[blk] == 'D' ? 'W' : '.',
				    "block %u: written back '%c', expected '%c' (blocks %s, dirty before %s)",
				    blk, wb.written[blk],
				    dirty[blk] == 'D' ? 'W' : '.', wb.written,
				    dirty);
}

static void iomap_invalidate_folio_test(struct kunit *test)
{
	const struct iomap_kunit_inval_case *c = test->param_value;
	struct inode *inode = iomap_kunit_inode(test, c->blkbits);
	unsigned int nr = SZ_4K >> c->blkbits;
	struct folio *folio;

	KUNIT_ASSERT_EQ_MSG(test, strlen(c->dirty), nr, "bad table row");
	iomap_kunit_cache_folio(test, inode, 0, true);
	folio = iomap_kunit_lock_folio(test, inode, 0);

	iomap_invalidate_folio(folio, c->off, c->len);

	KUNIT_EXPECT_EQ_MSG(test, folio_test_dirty(folio), c->folio_dirty,
			    "folio dirty flag after invalidating [%zu, %zu)",
			    c->off, c->off + c->len);
	KUNIT_EXPECT_EQ_MSG(test, !!folio_get_private(folio), c->has_state,
			    "per-block state present after invalidating [%zu, %zu)",
			    c->off, c->off + c->len);
	iomap_kunit_expect_blocks(test, folio, iomap_folio_block_dirty, 'D',
				  c->dirty, "dirty");
	/* invalidation does not make the cached data stale */
	KUNIT_EXPECT_TRUE_MSG(test, folio_test_uptodate(folio),
			      "folio uptodate flag cleared");
	iomap_kunit_put_folio(folio);

	/* writeback writes the blocks still dirty, and only those */
	iomap_kunit_expect_writeback(test, inode, c->dirty);
	folio = iomap_kunit_lock_folio(test, inode, 0);
	KUNIT_EXPECT_FALSE_MSG(test, folio_test_dirty(folio),
			       "folio dirty after writeback");
	KUNIT_EXPECT_FALSE_MSG(test, folio_test_writeback(folio),
			       "folio still under writeback");
	iomap_kunit_expect_blocks(test, folio, iomap_folio_block_dirty, 'D',
				  "........" + 8 - nr, "dirty (after writeback)");
	iomap_kunit_put_folio(folio);
}

/*
 * Zeroing [pos, pos + len) with iomap_zero_range() over an extent of one
 * type that covers the whole file.
 *
 * @cache: per folio, what is in the page cache before: '-' nothing,
 * 'c' a clean uptodate folio, 'd' a dirty one (all its blocks dirty).
 * @uptodate, @dirty: per block of the file afterwards, 'U' / 'D' when set,
 * '.' when not, '-' for the blocks of a folio that must not be cached.
 * [@zero_from, @zero_to): the bytes that must be zero afterwards; every
 * other byte of an uptodate block must still be the pattern.
 * @reads: whether ->read_folio_range must be asked for data; zeroing whole
 * blocks of a folio that is not cached must not read.
 */
struct iomap_kunit_zero_case {
	const char *name;
	unsigned int blkbits;
	u16 type;
	const char *cache;
	loff_t pos;
	loff_t len;
	bool did_zero;
	loff_t zero_from;
	loff_t zero_to;
	const char *uptodate;
	const char *dirty;
	bool reads;
};

static const struct iomap_kunit_zero_case iomap_kunit_zero_cases[] = {
	/* holes read as zeros: nothing to do, cached or not */
	{ "hole, not cached", 10, IOMAP_HOLE, "--", 1024, 2048,
	  false, 0, 0, "--------", "--------", false },
	{ "hole, clean folio", 10, IOMAP_HOLE, "cc", 1000, 2000,
	  false, 0, 0, "UUUUUUUU", "........", false },
	/*
	 * Unwritten extents read as zeros too, but the test ops (like XFS)
	 * hand iomap the dirty folios over them to zero: with none, iomap
	 * gets an empty batch and must not report a zeroing.
	 */
	{ "unwritten, not cached", 10, IOMAP_UNWRITTEN, "--", 1000, 2000,
	  false, 0, 0, "--------", "--------", false },
	{ "unwritten, clean folios", 10, IOMAP_UNWRITTEN, "cc", 1000, 2000,
	  false, 0, 0, "UUUUUUUU", "........", false },
	{ "unwritten, dirty folio", 10, IOMAP_UNWRITTEN, "dc", 1000, 2000,
	  true, 1000, 3000, "UUUUUUUU", "DDDD....", false },
	{ "unwritten, only the second folio dirty", 10, IOMAP_UNWRITTEN, "cd",
	  3000, 2000, true, 4096, 5000, "UUUUUUUU", "....DDDD", false },
	{ "512: unwritten, only the first folio dirty", 9, IOMAP_UNWRITTEN,
	  "dc", 3000, 2000, true, 3000, 4096, "UUUUUUUUUUUUUUUU",
	  "DDDDDDDD........", false },
	/* mapped blocks hold data: zeroed in the page cache */
	{ "mapped, clean folios", 10, IOMAP_MAPPED, "cc", 3000, 2000,
	  true, 3000, 5000, "UUUUUUUU", "..DDD...", false },
	{ "512: mapped, clean folios", 9, IOMAP_MAPPED, "cc", 1000, 2000,
	  true, 1000, 3000, "UUUUUUUUUUUUUUUU", ".DDDDD..........", false },
	{ "mapped, dirty folio", 10, IOMAP_MAPPED, "d-", 1024, 1024,
	  true, 1024, 2048, "UUUU----", "DDDD----", false },
	{ "mapped, not cached, whole blocks", 10, IOMAP_MAPPED, "--", 1024,
	  2048, true, 1024, 3072, ".UU.----", ".DD.----", false },
	{ "2k: mapped, not cached, whole folio", 11, IOMAP_MAPPED, "--", 0,
	  4096, true, 0, 4096, "UU--", "DD--", false },
	{ "2k: mapped, not cached, inside a block", 11, IOMAP_MAPPED, "--",
	  1000, 100, true, 1000, 1100, "U.--", "D.--", true },
	{ "512: mapped, not cached, unaligned", 9, IOMAP_MAPPED, "--", 700,
	  1000, true, 700, 1700, ".UUU....--------", ".DDD....--------",
	  true },
	/* one block per folio: no per-block state */
	{ "4k: mapped, clean folio", 12, IOMAP_MAPPED, "c-", 1000, 10,
	  true, 1000, 1010, "U-", "D-", false },
	{ "4k: mapped, not cached", 12, IOMAP_MAPPED, "--", 1000, 10,
	  true, 1000, 1010, "U-", "D-", true },
	{ "4k: unwritten, clean folio", 12, IOMAP_UNWRITTEN, "c-", 1000, 10,
	  false, 0, 0, "U-", ".-", false },
};

KUNIT_ARRAY_PARAM_DESC(iomap_kunit_zero, iomap_kunit_zero_cases, name);

struct iomap_kunit_zero_ctx {
	struct kunit *test;
	const struct iomap_kunit_zero_case *c;
	size_t read;		/* bytes ->read_folio_range supplied */
};

/*
 * One extent of the row's type over the whole file, reported from the
 * block that holds @pos to the block that holds the end of the range.
 * For zeroing over an unwritten extent, hand iomap the dirty folios to
 * zero, as XFS does, instead of having it write the range back first.
 */
static int iomap_kunit_begin(struct inode *inode, loff_t pos, loff_t length,
			     unsigned int flags, struct iomap *iomap,
			     struct iomap *srcmap)
{
	struct iomap_iter *iter = container_of(iomap, struct iomap_iter, iomap);
	struct iomap_kunit_zero_ctx *ctx = iter->private;
	loff_t end = round_up(pos + length, i_blocksize(inode));

	iomap->offset = round_down(pos, i_blocksize(inode));
	iomap->type = ctx->c->type;
	/* never used for I/O: reads go to ->read_folio_range */
	iomap->addr = ctx->c->type == IOMAP_HOLE ? IOMAP_NULL_ADDR :
			iomap->offset;
	iomap->bdev = NULL;
	iomap->flags = 0;

	if (iomap->type == IOMAP_UNWRITTEN && (flags & IOMAP_ZERO)) {
		unsigned int iomap_flags = 0;
		loff_t start = pos;

		iomap_fill_dirty_folios(iter, &start, pos + length,
					&iomap_flags);
		iomap->flags |= iomap_flags;
		end = min(end, start);
	}
	iomap->length = end - iomap->offset;
	return 0;
}

static DEFINE_IOMAP_ITER_NEXT(iomap_kunit_next, iomap_kunit_begin);

static const struct iomap_ops iomap_kunit_ops = {
	.iomap_next	= iomap_kunit_next,
};

/* "Read" a mapped range from the disk, which holds the pattern. */
static int iomap_kunit_read_folio_range(const struct iomap_iter *iter,
					struct folio *folio, loff_t pos,
					size_t len)
{
	struct iomap_kunit_zero_ctx *ctx = iter->private;

	KUNIT_EXPECT_EQ_MSG(ctx->test, iomap_iter_srcmap(iter)->type, IOMAP_MAPPED,
			    "read of [%lld, %lld) from an extent of type %u",
			    pos, pos + len, iomap_iter_srcmap(iter)->type);
	iomap_kunit_fill(folio, offset_in_folio(folio, pos), len);
	ctx->read += len;
	return 0;
}

static const struct iomap_write_ops iomap_kunit_write_ops = {
	.read_folio_range	= iomap_kunit_read_folio_range,
};

/*
 * Check the bytes of the uptodate blocks of @folio: zero in
 * [@zero_from, @zero_to), the pattern elsewhere.  Name the first wrong
 * byte of each block.
 */
static void iomap_kunit_expect_bytes(struct kunit *test, struct folio *folio,
				     loff_t zero_from, loff_t zero_to)
{
	struct inode *inode = folio->mapping->host;
	unsigned int bsize = i_blocksize(inode);
	unsigned int nr = i_blocks_per_folio(inode, folio);
	u8 *buf = kunit_kmalloc(test, folio_size(folio), GFP_KERNEL);
	unsigned int blk, i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	memcpy_from_folio(buf, folio, 0, folio_size(folio));

	for (blk = 0; blk < nr; blk++) {
		if (!iomap_folio_block_uptodate(folio, blk))
			continue;
		for (i = blk * bsize; i < (blk + 1) * bsize; i++) {
			loff_t pos = folio_pos(folio) + i;
			u8 want = pos >= zero_from && pos < zero_to ? 0 :
					iomap_kunit_pattern(pos);

			if (buf[i] != want) {
				KUNIT_FAIL(test,
					   "byte %lld (folio %lu block %u) is %#x, expected %#x",
					   pos, folio->index, blk, buf[i], want);
				break;
			}
		}
	}
	kunit_kfree(test, buf);
}

static void iomap_zero_range_test(struct kunit *test)
{
	const struct iomap_kunit_zero_case *c = test->param_value;
	struct iomap_kunit_zero_ctx ctx = { .test = test, .c = c };
	struct inode *inode = iomap_kunit_inode(test, c->blkbits);
	unsigned int nr = SZ_4K >> c->blkbits;
	bool did_zero = false;
	pgoff_t index;
	int ret;

	KUNIT_ASSERT_EQ_MSG(test, strlen(c->cache), IOMAP_KUNIT_FOLIOS,
			    "bad table row");
	KUNIT_ASSERT_EQ_MSG(test, strlen(c->uptodate), IOMAP_KUNIT_FOLIOS * nr,
			    "bad table row");
	KUNIT_ASSERT_EQ_MSG(test, strlen(c->dirty), IOMAP_KUNIT_FOLIOS * nr,
			    "bad table row");
	for (index = 0; index < IOMAP_KUNIT_FOLIOS; index++)
		if (c->cache[index] != '-')
			iomap_kunit_cache_folio(test, inode, index,
						c->cache[index] == 'd');

	inode_lock(inode);
	ret = iomap_zero_range(inode, c->pos, c->len, &did_zero,
			       &iomap_kunit_ops, &iomap_kunit_write_ops, &ctx);
	inode_unlock(inode);

	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "zeroing [%lld, %lld)",
			    c->pos, c->pos + c->len);
	KUNIT_EXPECT_EQ_MSG(test, did_zero, c->did_zero,
			    "did_zero after zeroing [%lld, %lld)",
			    c->pos, c->pos + c->len);
	KUNIT_EXPECT_EQ_MSG(test, ctx.read != 0, c->reads,
			    "bytes read from the disk: %zu", ctx.read);

	for (index = 0; index < IOMAP_KUNIT_FOLIOS; index++) {
		const char *uptodate = c->uptodate + index * nr;
		const char *dirty = c->dirty + index * nr;
		struct folio *folio;

		if (uptodate[0] == '-') {
			folio = filemap_lock_folio(inode->i_mapping, index);
			KUNIT_EXPECT_TRUE_MSG(test, IS_ERR(folio),
					      "folio %lu was added to the page cache",
					      index);
			if (!IS_ERR(folio))
				iomap_kunit_put_folio(folio);
			continue;
		}

		folio = iomap_kunit_lock_folio(test, inode, index);
		iomap_kunit_expect_blocks(test, folio,
					  iomap_folio_block_uptodate, 'U',
					  uptodate, "uptodate");
		iomap_kunit_expect_blocks(test, folio, iomap_folio_block_dirty,
					  'D', dirty, "dirty");
		KUNIT_EXPECT_EQ_MSG(test, folio_test_dirty(folio),
				    !!memchr(dirty, 'D', nr),
				    "folio %lu dirty flag", index);
		iomap_kunit_expect_no_state(test, folio);
		iomap_kunit_expect_bytes(test, folio, c->zero_from, c->zero_to);
		iomap_kunit_put_folio(folio);
	}
}

static struct kunit_case iomap_buffered_io_cases[] = {
	KUNIT_CASE_PARAM(iomap_clear_range_dirty_test,
			 iomap_kunit_clear_gen_params),
	KUNIT_CASE_PARAM(iomap_invalidate_folio_test,
			 iomap_kunit_inval_gen_params),
	KUNIT_CASE_PARAM(iomap_zero_range_test, iomap_kunit_zero_gen_params),
	{}
};

static struct kunit_suite iomap_buffered_io_suite = {
	.name = "iomap_buffered_io",
	.test_cases = iomap_buffered_io_cases,
};

kunit_test_suite(iomap_buffered_io_suite);

MODULE_DESCRIPTION("KUnit tests of iomap's per-block folio state and zeroing");
MODULE_LICENSE("GPL");
