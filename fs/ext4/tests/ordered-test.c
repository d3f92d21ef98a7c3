// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the zeroed old EOF block: when a file grows past an EOF
 * that is not block aligned, the rest of the old EOF block must read as
 * zeros, in memory, after a clean unmount, and after a crash.
 *
 * ext4_eof_zeroing runs on both buffered I/O paths: the buffer_head path
 * orders the zeroed block with data=ordered, the iomap path by tracking it
 * (i_ordered_lblk, i_ordered_len) and holding i_disksize back until its
 * write completes.  ext4_iomap_ordered tests that bookkeeping, which exists
 * on the iomap path only, so it runs on the iomap configurations.
 *
 * brd completes a bio before submit_bio() returns, so a write's completion
 * is never in flight on its own.  The tests hold it there: a static stub
 * on ext4_iomap_end_bio() keeps the bios of tagged (ordered) writes
 * submitted from the test thread until the test releases them.  brd has
 * copied the data by then; a crash image that is to show such a write as
 * not done yet gets the block's earlier content put back.  Geometry
 * units below: B is the block size; files start with 2.5 blocks of data, so
 * the old EOF is half way into block 2.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/iomap.h>
#include <linux/jbd2.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/writeback.h>

#include "fixture.h"

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

/* The iomap half of ext4_kunit_configs: the bookkeeping exists there only. */
static const void *iomap_config_gen_params(struct kunit *test,
					   const void *prev, char *desc)
{
	const struct ext4_kunit_config *cfg = prev;

	cfg = cfg ? cfg + 1 : ext4_kunit_configs;
	for (; cfg < ext4_kunit_configs + EXT4_KUNIT_NR_CONFIGS; cfg++) {
		if (cfg->path == EXT4_KUNIT_IOMAP) {
			strscpy(desc, cfg->name, KUNIT_PARAM_DESC_SIZE);
			return cfg;
		}
	}
	return NULL;
}

static const struct ext4_kunit_config *cfg(struct kunit *test)
{
	return test->param_value;
}

static loff_t bs(struct kunit *test)
{
	return cfg(test)->geo->blocksize;
}

static bool on_iomap(struct kunit *test)
{
	return cfg(test)->path == EXT4_KUNIT_IOMAP;
}

static loff_t disksize(struct file *file)
{
	return READ_ONCE(EXT4_I(file_inode(file))->i_disksize);
}

static u32 ordered_len(struct file *file)
{
	return READ_ONCE(EXT4_I(file_inode(file))->i_ordered_len);
}

static u32 ordered_lblk(struct file *file)
{
	return READ_ONCE(EXT4_I(file_inode(file))->i_ordered_lblk);
}

static void write_pattern(struct ext4_kunit_fs *fs, struct file *file,
			  u8 seed, loff_t pos, size_t len)
{
	u8 *buf = kunit_kmalloc(fs->test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	ext4_kunit_fill(buf, seed, pos, len);
	ext4_kunit_write(fs, file, pos, buf, len);
	kunit_kfree(fs->test, buf);
}

/*
 * Check [0, @size) of @file: the pattern of @seed below @gap_start and from
 * @gap_end on, zeros in between.  @gap_end may lie past @size.
 */
static void expect_file(struct ext4_kunit_fs *fs, struct file *file, u8 seed,
			loff_t size, loff_t gap_start, loff_t gap_end,
			const char *when)
{
	struct kunit *test = fs->test;
	u8 *buf = kunit_kmalloc(test, size, GFP_KERNEL);
	loff_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ_MSG(test, ext4_kunit_read(fs, file, 0, buf, size),
			    (size_t)size, "%s: short read", when);
	for (i = 0; i < size; i++) {
		u8 want = i >= gap_start && i < gap_end ?
			  0 : ext4_kunit_pattern(seed, i);

		if (buf[i] != want) {
			KUNIT_FAIL(test, "%s: byte %lld is %#x, expected %#x (gap %lld-%lld)",
				   when, i, buf[i], want, gap_start, gap_end);
			break;
		}
	}
	kunit_kfree(test, buf);
}

/* A file of 2.5 blocks of data, on disk and with i_disksize at its size. */
static struct file *make_file(struct ext4_kunit_fs *fs, const char *name,
			      u8 seed)
{
	struct kunit *test = fs->test;
	struct file *f = ext4_kunit_create(fs, name);

	write_pattern(fs, f, seed, 0, 2 * bs(test) + bs(test) / 2);
	ext4_kunit_fsync(fs, f);
	KUNIT_ASSERT_EQ(test, disksize(f), 2 * bs(test) + bs(test) / 2);
	KUNIT_ASSERT_EQ(test, ordered_len(f), 0U);
	return f;
}

static bool is_ordered_write(struct bio *bio)
{
	return iomap_ioend_from_bio(bio)->io_private;
}

/*
 * Hold the completion of ordered writes, until
 * ext4_kunit_complete_held_bios() (or teardown, which runs before the
 * unmount: the actions run in reverse order).
 */
static struct ext4_kunit_held_bios *hold_writes(struct ext4_kunit_fs *fs)
{
	return ext4_kunit_hold_bios(fs->test, is_ordered_write);
}

/* Write [@start, @end) of @file back and wait for it. */
static int write_back(struct file *file, loff_t start, loff_t end)
{
	return filemap_write_and_wait_range(file->f_mapping, start, end - 1);
}

/* After the held writes completed: the completion work has finished them. */
static void flush_completion(struct file *file)
{
	flush_work(&EXT4_I(file_inode(file))->i_rsv_conversion_work);
}

/*
 * The ways a file grows past its EOF, from 2.5 blocks: a write at block 4,
 * an extending fallocate, a truncate up (far enough for the range shifts
 * below, even with 16k clusters).
 */
enum grow_kind { GROW_WRITE, GROW_FALLOCATE, GROW_TRUNCATE };

struct grow_case {
	const char *name;
	enum grow_kind kind;
};

static const struct grow_case grow_cases[] = {
	{ "append write", GROW_WRITE },
	{ "fallocate", GROW_FALLOCATE },
	{ "truncate up", GROW_TRUNCATE },
};

/* Grow @f; return the new size.  Data written (GROW_WRITE) uses @seed. */
static loff_t grow(struct ext4_kunit_fs *fs, struct file *f,
		   const struct grow_case *c, u8 seed)
{
	loff_t b = fs->geo->blocksize;

	switch (c->kind) {
	case GROW_WRITE:
		write_pattern(fs, f, seed, 4 * b, b);
		return 5 * b;
	case GROW_FALLOCATE:
		ext4_kunit_fallocate(fs, f, 0, 2 * b, 3 * b);
		return 5 * b;
	case GROW_TRUNCATE:
		ext4_kunit_truncate(fs, f, 16 * b + b / 4);
		return 16 * b + b / 4;
	}
	return 0;
}

/* The file after growth: data below 2.5 blocks and (for a write) at 4. */
static void expect_grown(struct ext4_kunit_fs *fs, struct file *f, u8 seed,
			 const struct grow_case *c, loff_t size,
			 const char *when)
{
	loff_t b = fs->geo->blocksize;

	expect_file(fs, f, seed, size, 2 * b + b / 2,
		    c->kind == GROW_WRITE ? 4 * b : size, when);
}

/*
 * ext4_eof_zeroing: bytes past the old EOF never become file data.  They
 * are put into the EOF block two ways: through an mmap write past EOF,
 * which only the page cache sees, and through the raw device, which only
 * the disk sees.  After each way of growing the file, the gap reads as
 * zeros from the page cache, after a clean remount, and after a crash taken
 * right after the journal committed the growth: then the file is either
 * still at its old size, or the gap on disk is zeros.
 */

/*
 * Bytes past EOF in the page cache, through a shared mapping, unmapped
 * again at once: a mapping keeps the file, and so the mount, alive.
 */
static void pollute_by_mmap(struct ext4_kunit_fs *fs, struct file *f)
{
	struct kunit *test = fs->test;
	loff_t b = fs->geo->blocksize, eof = 2 * b + b / 2;
	loff_t page = round_down(eof, PAGE_SIZE);
	unsigned long addr;
	u8 junk[64];
	loff_t pos;

	memset(junk, 0xa5, sizeof(junk));
	addr = kunit_vm_mmap(test, f, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_SHARED, page);
	KUNIT_ASSERT_NE_MSG(test, addr, 0UL, "cannot mmap the EOF page");
	/*
	 * Only the EOF page can be stored to: a fault on a page wholly past
	 * EOF is SIGBUS.  Where eof is page aligned (blocks above the page
	 * size) there is nothing past EOF to store to in this way.
	 */
	for (pos = eof; pos < 3 * b && pos < round_up(eof, PAGE_SIZE);
	     pos += sizeof(junk)) {
		void __user *to = (void __user *)(addr + pos - page);
		size_t n = min_t(loff_t, sizeof(junk), 3 * b - pos);

		KUNIT_EXPECT_EQ(test, copy_to_user(to, junk, n), 0UL);
	}
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, PAGE_SIZE), 0);
}

/* Bytes past EOF on disk, with the page cache dropped so they are read. */
static void pollute_on_disk(struct ext4_kunit_fs *fs, struct file *f)
{
	struct kunit *test = fs->test;
	loff_t b = fs->geo->blocksize;
	ext4_fsblk_t pblk = ext4_kunit_pblk(fs, f, 2);
	u8 *junk = kunit_kmalloc(test, b / 2, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, junk);
	memset(junk, 0xa5, b / 2);
	ext4_kunit_drop_cache(fs, f);
	ext4_kunit_raw_io(fs, REQ_OP_WRITE, pblk * b + b / 2, junk, b / 2);
}

struct zeroing_case {
	const char *name;
	bool on_disk;
	const struct grow_case *grow;
};

static const struct zeroing_case zeroing_cases[] = {
	{ "mmap, append write", false, &grow_cases[0] },
	{ "mmap, fallocate", false, &grow_cases[1] },
	{ "mmap, truncate up", false, &grow_cases[2] },
	{ "disk, append write", true, &grow_cases[0] },
	{ "disk, fallocate", true, &grow_cases[1] },
	{ "disk, truncate up", true, &grow_cases[2] },
};

/*
 * The crash image: the file is at its old size or at the grown one, its
 * data below the old EOF is intact, and the gap, as far as the size covers
 * it, is zeros.  Data written past the gap may not have reached the disk.
 */
static void expect_after_crash(struct ext4_kunit_fs *fs, const char *name,
			       u8 seed, const struct zeroing_case *c,
			       loff_t grown)
{
	struct kunit *test = fs->test;
	loff_t b = fs->geo->blocksize, eof = 2 * b + b / 2;
	struct file *f = ext4_kunit_open(fs, name);
	loff_t size = i_size_read(file_inode(f));
	loff_t gap_end = c->grow->kind == GROW_WRITE ? 4 * b : grown;

	KUNIT_EXPECT_TRUE_MSG(test, size == eof || size == grown,
			      "%s: size %lld after the crash, expected %lld or %lld",
			      c->name, size, eof, grown);
	expect_file(fs, f, seed, min(size, gap_end), eof, gap_end,
		    "after the crash");
}

static void eof_gap_reads_zero(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	void *image = ext4_kunit_image_buffer(test);

	loff_t b = bs(test);
	u8 *block2 = kunit_kmalloc(test, b, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, block2);
	for (i = 0; i < ARRAY_SIZE(zeroing_cases); i++) {
		const struct zeroing_case *c = &zeroing_cases[i];
		journal_t *journal = EXT4_SB(fs->mnt->mnt_sb)->s_journal;
		struct ext4_kunit_held_bios *held = NULL;
		ext4_fsblk_t pblk;
		loff_t grown;
		char name[16];
		struct file *f;

		snprintf(name, sizeof(name), "gap%zu", i);
		f = make_file(fs, name, i);
		if (c->on_disk)
			pollute_on_disk(fs, f);
		else
			pollute_by_mmap(fs, f);
		/* Block 2 on disk before the growth zeroes and writes it. */
		pblk = ext4_kunit_pblk(fs, f, 2);
		ext4_kunit_raw_io(fs, REQ_OP_READ, pblk * b, block2, b);
		/*
		 * On the iomap path hold the ordered write, so that the
		 * growth is committed while the zeroes are not on disk yet:
		 * the crash image then shows whether i_disksize waited.
		 * data=ordered writes them before the commit.
		 */
		if (on_iomap(test))
			held = hold_writes(fs);
		grown = grow(fs, f, c->grow, i);
		expect_grown(fs, f, i, c->grow, grown, c->name);

		KUNIT_ASSERT_EQ(test, jbd2_journal_force_commit(journal), 0);
		ext4_kunit_snapshot(fs, image);
		if (held) {
			/* The zeroes' write is in flight: not on disk yet. */
			KUNIT_EXPECT_EQ_MSG(test, held->nr, 1U,
					    "%s: ordered writes held", c->name);
			memcpy(image + pblk * b, block2, b);
			ext4_kunit_complete_held_bios(held);
			flush_completion(f);
			KUNIT_EXPECT_EQ_MSG(test, disksize(f), grown,
					    "%s: i_disksize after the ordered write",
					    c->name);
		}

		ext4_kunit_remount(fs);
		f = ext4_kunit_open(fs, name);
		KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(f)), grown,
				    "%s: size after remount", c->name);
		expect_grown(fs, f, i, c->grow, grown, "after remount");

		ext4_kunit_crash_remount(fs, image);
		expect_after_crash(fs, name, i, c, grown);
	}
}

static struct kunit_case ext4_eof_zeroing_cases[] = {
	KUNIT_CASE_PARAM(eof_gap_reads_zero, config_gen_params),
	{}
};

static struct kunit_suite ext4_eof_zeroing_suite = {
	.name = "ext4_eof_zeroing",
	.test_cases = ext4_eof_zeroing_cases,
};

/*
 * ext4_iomap_ordered: the tracker.  Each case makes the 2.5-block file,
 * holds ordered writes, and grows the file so that block 2 is tracked.
 */
static struct file *track_block2(struct ext4_kunit_fs *fs, const char *name,
				 struct ext4_kunit_held_bios **held,
				 const struct grow_case *c, loff_t *size)
{
	struct kunit *test = fs->test;
	struct file *f = make_file(fs, name, 1);

	*held = hold_writes(fs);
	*size = grow(fs, f, c, 1);
	KUNIT_EXPECT_EQ_MSG(test, ordered_len(f), 1U, "%s: not tracked",
			    c->name);
	KUNIT_EXPECT_EQ_MSG(test, ordered_lblk(f), 2U,
			    "%s: tracked block", c->name);
	KUNIT_EXPECT_EQ_MSG(test, (*held)->nr, 1U, "%s: ordered writes held",
			    c->name);
	return f;
}

/*
 * Each way of growing tracks the old EOF block, holds i_disksize at the
 * old EOF while its write is in flight, and the write's completion sets
 * i_disksize to i_size: the growth held back meanwhile is not lost.
 */
static void growth_waits_for_ordered_write(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(grow_cases); i++) {
		const struct grow_case *c = &grow_cases[i];
		loff_t b = bs(test), size;
		struct ext4_kunit_held_bios *held;
		struct file *f = track_block2(fs, c->name, &held, c, &size);

		KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(f)), size,
				    "%s: i_size", c->name);
		KUNIT_EXPECT_EQ_MSG(test, disksize(f), 2 * b + b / 2,
				    "%s: i_disksize while the zeroes are in flight",
				    c->name);
		/* A write completing past the block does not move it either. */
		if (c->kind == GROW_WRITE) {
			KUNIT_ASSERT_EQ(test, write_back(f, 4 * b, 5 * b), 0);
			KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 5),
					   "WWW.W");
			KUNIT_EXPECT_EQ_MSG(test, disksize(f), 2 * b + b / 2,
					    "%s: i_disksize after the appended write",
					    c->name);
		}
		ext4_kunit_complete_held_bios(held);
		flush_completion(f);
		KUNIT_EXPECT_EQ_MSG(test, ordered_len(f), 0U,
				    "%s: still tracked", c->name);
		KUNIT_EXPECT_EQ_MSG(test, disksize(f), size,
				    "%s: i_disksize after the ordered write",
				    c->name);
		expect_grown(fs, f, 1, c, size, c->name);
	}
}

/*
 * The lost update: a truncate up and an extending fallocate while the
 * block is in flight both end up in i_disksize, which the completion sets
 * to i_size rather than to the end of its own write.
 */
static void later_growth_published_by_completion(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	loff_t b = bs(test), size;
	struct ext4_kunit_held_bios *held;
	struct file *f = track_block2(fs, "ordered", &held, &grow_cases[2],
				      &size);

	ext4_kunit_fallocate(fs, f, 0, size, 4 * b);
	ext4_kunit_truncate(fs, f, size + 6 * b);
	KUNIT_EXPECT_EQ(test, disksize(f), 2 * b + b / 2);
	KUNIT_EXPECT_EQ(test, ordered_len(f), 1U);
	ext4_kunit_complete_held_bios(held);
	flush_completion(f);
	KUNIT_EXPECT_EQ(test, disksize(f), size + 6 * b);
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(f)), size + 6 * b);
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "ordered");
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(f)), size + 6 * b);
	expect_file(fs, f, 1, size + 6 * b, 2 * b + b / 2, size + 6 * b,
		    "after remount");
}

/*
 * Nothing is tracked for a block that starts at or past i_disksize, and
 * while one block is tracked a second growth does not replace it: here
 * block 4 is written on disk (its writeback completed, with i_disksize
 * held at 2.5 blocks) and zeroed by the next growth.  Neither needs to wait
 * for block 2, so the growth must not block on the held write.
 */
static int grow_again(void *data)
{
	struct file *f = data;
	loff_t pos = 8 * i_blocksize(file_inode(f));
	u8 byte = 0x5a;

	return kernel_write(f, &byte, 1, &pos) == 1 ? 0 : -EIO;
}

static void nothing_tracked_past_disksize(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = make_file(fs, "ordered", 1);
	loff_t b = bs(test);
	struct ext4_kunit_held_bios *held = hold_writes(fs);
	struct ext4_kunit_bg *bg;
	int ret = -1;

	write_pattern(fs, f, 1, 4 * b, b / 2);
	KUNIT_ASSERT_EQ(test, ordered_len(f), 1U);
	KUNIT_ASSERT_EQ(test, write_back(f, 4 * b, 5 * b), 0);
	KUNIT_ASSERT_STREQ(test, ext4_kunit_extent_map(fs, f, 4, 1), "W");
	KUNIT_ASSERT_EQ(test, disksize(f), 2 * b + b / 2);

	bg = ext4_kunit_bg_start(test, grow_again, f);
	KUNIT_EXPECT_TRUE_MSG(test, ext4_kunit_bg_done(bg, 2000, &ret),
			      "a growth from block 4 waited for block 2");
	ext4_kunit_complete_held_bios(held);
	KUNIT_ASSERT_TRUE(test, ext4_kunit_bg_done(bg, 5000, &ret));
	KUNIT_EXPECT_EQ(test, ret, 0);
	flush_completion(f);
	KUNIT_EXPECT_EQ(test, ordered_len(f), 0U);
	KUNIT_EXPECT_EQ(test, disksize(f), 8 * b + 1);
	expect_file(fs, f, 1, 4 * b, 2 * b + b / 2, 4 * b, "below block 4");
}

/* Operations that need the block settled wait for its write. */
struct waiter {
	const char *name;
	int (*fn)(void *file);
};

/*
 * An offset past the folio of block 2, aligned for range shifts: the
 * operations below do not wait for block 2's folio on their own.
 */
static loff_t past_block2(struct inode *inode)
{
	loff_t align = max_t(loff_t, PAGE_SIZE,
			     EXT4_C2B(EXT4_SB(inode->i_sb), 1) <<
			     inode->i_blkbits);

	return round_up(3 * i_blocksize(inode), align);
}

/* fsync of a range away from block 2, where the growth ended up. */
static int wait_fsync(void *file)
{
	return vfs_fsync_range(file, past_block2(file_inode(file)),
			       LLONG_MAX, 0);
}

static int wait_insert(void *file)
{
	struct inode *inode = file_inode(file);

	return vfs_fallocate(file, FALLOC_FL_INSERT_RANGE, past_block2(inode),
			     past_block2(inode));
}

static int wait_collapse(void *file)
{
	struct inode *inode = file_inode(file);

	return vfs_fallocate(file, FALLOC_FL_COLLAPSE_RANGE,
			     past_block2(inode), past_block2(inode));
}

static int wait_truncate_down(void *file)
{
	struct inode *inode = file_inode(file);

	return vfs_truncate(&((struct file *)file)->f_path,
			    2 * i_blocksize(inode) + i_blocksize(inode) / 4);
}

static const struct waiter waiters[] = {
	{ "fsync", wait_fsync },
	{ "insert range", wait_insert },
	{ "collapse range", wait_collapse },
	{ "truncate into the block", wait_truncate_down },
};

/*
 * fsync (whose commit would otherwise miss a growth held back), insert and
 * collapse range (which set i_disksize directly) wait until the ordered
 * write has completed, and then find i_disksize equal to i_size.  Their
 * ranges stay clear of block 2's folio, so only the ordered write can make
 * them wait.  A truncate into the block waits for the folio's writeback
 * anyway; it is here for the state it leaves.
 */
static void settling_operations_wait(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(waiters); i++) {
		const struct waiter *w = &waiters[i];
		struct ext4_kunit_held_bios *held;
		struct ext4_kunit_bg *bg;
		loff_t size;
		struct file *f = track_block2(fs, w->name, &held,
					      &grow_cases[2], &size);
		int ret = -1;

		bg = ext4_kunit_bg_start(test, w->fn, f);
		KUNIT_EXPECT_FALSE_MSG(test, ext4_kunit_bg_done(bg, 150, NULL),
				       "%s did not wait for the ordered write",
				       w->name);
		ext4_kunit_complete_held_bios(held);
		KUNIT_ASSERT_TRUE_MSG(test, ext4_kunit_bg_done(bg, 5000, &ret),
				      "%s still blocked", w->name);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", w->name);
		flush_completion(f);
		KUNIT_EXPECT_EQ_MSG(test, ordered_len(f), 0U, "%s", w->name);
		KUNIT_EXPECT_EQ_MSG(test, disksize(f),
				    i_size_read(file_inode(f)),
				    "%s: i_disksize", w->name);
	}
}

/*
 * A tracked block whose write cannot be mapped (here failed on purpose,
 * as writeback might fail) ends the hold anyway: the growth fails with the
 * error, nothing stays tracked, and nothing waits forever for it.  The
 * growth is a write past EOF: a failed truncate would also record a
 * filesystem error (ext4_setattr() reports every error it returns).
 */
static int fail_block2_mapping(struct iomap_writepage_ctx *wpc, loff_t offset,
			       unsigned int dirty_len)
{
	struct kunit *test = kunit_get_current_test();
	loff_t b2 = 2 * i_blocksize(wpc->inode);
	int ret;

	if (offset <= b2 && b2 < offset + dirty_len)
		return -EIO;
	kunit_deactivate_static_stub(test, ext4_iomap_map_writeback_range_test);
	ret = ext4_iomap_map_writeback_range_test(wpc, offset, dirty_len);
	kunit_activate_static_stub(test, ext4_iomap_map_writeback_range_test,
				   fail_block2_mapping);
	return ret;
}

static void unmappable_block_ends_hold(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = make_file(fs, "ordered", 1);
	loff_t b = bs(test), eof = 2 * b + b / 2;
	struct ext4_kunit_bg *bg;
	loff_t pos = 6 * b;
	u8 byte = 0x5a;
	int ret = 0;

	kunit_activate_static_stub(test, ext4_iomap_map_writeback_range_test,
				   fail_block2_mapping);
	KUNIT_EXPECT_EQ(test, kernel_write(f, &byte, 1, &pos), (ssize_t)-EIO);
	kunit_deactivate_static_stub(test, ext4_iomap_map_writeback_range_test);
	KUNIT_EXPECT_EQ(test, ordered_len(f), 0U);
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(f)), eof);
	KUNIT_EXPECT_EQ(test, disksize(f), eof);

	bg = ext4_kunit_bg_start(test, wait_fsync, f);
	KUNIT_EXPECT_TRUE_MSG(test, ext4_kunit_bg_done(bg, 5000, &ret),
			      "fsync hangs after the failed ordered write");
	/* The same growth works once the block can be written. */
	ext4_kunit_write(fs, f, 6 * b, &byte, 1);
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_EQ(test, disksize(f), 6 * b + 1);
	KUNIT_EXPECT_EQ(test, ordered_len(f), 0U);
}

/*
 * O1: the block is tracked (its folio locked, dirty, not under writeback)
 * and background writeback takes the folio before the immediate write
 * does, and fails to map it.  iomap then drops the folio's dirty data, and
 * the immediate write finds nothing to write and no error to report: the
 * hold must end where the mapping failed.  The test puts the inode in the
 * state that window leaves (tracked block 2, dirty, no write started) and
 * runs a background (WB_SYNC_NONE) writeback that fails on block 2.
 */
static void clear_tracker(void *data)
{
	WRITE_ONCE(EXT4_I(data)->i_ordered_len, 0);
}

static void background_mapping_failure_ends_hold(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = make_file(fs, "ordered", 1);
	struct inode *inode = file_inode(f);
	loff_t b = bs(test);
	struct writeback_control wbc = {
		.sync_mode = WB_SYNC_NONE,
		.nr_to_write = LONG_MAX,
		.range_start = 0,
		.range_end = LLONG_MAX,
	};

	/* Block 2 dirty again, tracked, and a growth held back by it. */
	write_pattern(fs, f, 1, 2 * b, b / 2);
	KUNIT_ASSERT_TRUE(test, mapping_tagged(f->f_mapping,
					       PAGECACHE_TAG_DIRTY));
	EXT4_I(inode)->i_ordered_lblk = 2;
	/* As the setter does: the block before the length. */
	smp_store_release(&EXT4_I(inode)->i_ordered_len, 1);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, clear_tracker,
							inode), 0);
	inode_lock(inode);
	i_size_write(inode, 6 * b);
	inode_unlock(inode);

	kunit_activate_static_stub(test, ext4_iomap_map_writeback_range_test,
				   fail_block2_mapping);
	do_writepages(f->f_mapping, &wbc);
	kunit_deactivate_static_stub(test, ext4_iomap_map_writeback_range_test);

	KUNIT_EXPECT_EQ_MSG(test, ordered_len(f), 0U,
			    "the hold outlived the failed mapping of its block");
	KUNIT_EXPECT_EQ_MSG(test, disksize(f), 6 * b,
			    "the growth held back was not published");
	KUNIT_EXPECT_FALSE(test, mapping_tagged(f->f_mapping,
						PAGECACHE_TAG_DIRTY));
}

static struct kunit_case ext4_iomap_ordered_cases[] = {
	KUNIT_CASE_PARAM(growth_waits_for_ordered_write,
			 iomap_config_gen_params),
	KUNIT_CASE_PARAM(later_growth_published_by_completion,
			 iomap_config_gen_params),
	KUNIT_CASE_PARAM(nothing_tracked_past_disksize,
			 iomap_config_gen_params),
	KUNIT_CASE_PARAM(settling_operations_wait, iomap_config_gen_params),
	KUNIT_CASE_PARAM(unmappable_block_ends_hold, iomap_config_gen_params),
	KUNIT_CASE_PARAM(background_mapping_failure_ends_hold,
			 iomap_config_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_ordered_suite = {
	.name = "ext4_iomap_ordered",
	.test_cases = ext4_iomap_ordered_cases,
};

kunit_test_suites(&ext4_eof_zeroing_suite, &ext4_iomap_ordered_suite);

MODULE_DESCRIPTION("KUnit tests of the zeroed old EOF block of ext4 files");
MODULE_LICENSE("GPL");
