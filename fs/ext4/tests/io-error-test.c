// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of I/O errors on both buffered I/O paths of ext4.
 *
 * Every case runs on every geometry and on both paths, with bios to the
 * fixture's ramdisk failed on purpose, and checks that:
 *
 *  - a failed writeback reaches fsync as -EIO, once for each file that was
 *    open when it happened (errseq), and leaves no folio dirty or under
 *    writeback; a later write of the range and its fsync succeed, and the
 *    write reaches the file on the iomap path (the buffer_head path loses
 *    it: a defect of the base kernel, which the case states);
 *  - with data_err=abort, a failed data writeback aborts the journal, and
 *    ext4 then refuses changes (-EROFS);
 *  - after a remount, a range whose writeback failed reads as what was on
 *    disk before: the old data of an overwrite, zeros where blocks were
 *    allocated, although they still hold a deleted file's data;
 *  - a failed read returns -EIO and leaves no uptodate folio behind: once
 *    the device works again, the same read returns the data.
 *
 * How bios are failed.  The block layer's fail_make_request fault attribute
 * (CONFIG_FAIL_MAKE_REQUEST) fails a bio in submit_bio_noacct() when its
 * disk has BD_MAKE_IT_FAIL set and should_fail() agrees.  The test sets
 * BD_MAKE_IT_FAIL on ram0 only around the operation whose I/O it means to
 * fail (a "window"), and sets the attribute to fail only bios of tasks with
 * make_it_fail (task-filter), which it sets on its own thread for the
 * window: the journal thread and the workqueues, which commit the journal
 * and finish writes, never see a failure.  The attribute's "times" bounds
 * how many bios a window fails.
 *
 * A writeback window is a filemap_fdatawrite_range() of the range: the
 * thread submits the data bios of the range, and nothing else before them.
 * Writeback allocates blocks, but the block bitmap is in memory (every case
 * allocates once before, and the images have a single block group), the
 * extent tree is in the inode and the inode's table block is cached since
 * the file was created.  Every data bio fails but in one case: with
 * data_err=abort, the buffer_head path aborts the journal in that same call
 * and writes the journal superblock from the thread, so there the window
 * fails only the first bio, the data of a range that is a single extent.
 * A read window is a kernel_read() of a range whose page cache was
 * dropped: every bio fails, as a bad sector would fail each retry (the page
 * cache retries a failed readahead with ->read_folio).
 *
 * After each window the test checks that bios did fail, and, but where it
 * aborts the journal on purpose, that ext4 recorded no error and the
 * journal runs: a metadata I/O failed by mistake would show there.
 *
 * The attribute is static in block/blk-core.c, and set up only by the
 * fail_make_request= boot parameter, which kunit.py does not pass, or
 * through debugfs.  Its debugfs files cannot be written from the kernel:
 * kernel_write() needs ->write_iter, which debugfs' simple attributes do
 * not have.  So the test takes the attribute from the data pointer of its
 * "probability" file (debugfs_create_file() keeps it in the inode's
 * i_private): it changes the fields that writing the files would change,
 * and puts them back at the end of the test.  verbose is 0, so that no
 * failure dumps a stack.  Without CONFIG_FAIL_MAKE_REQUEST and
 * CONFIG_FAULT_INJECTION_DEBUG_FS (in .kunitconfig) the cases are skipped,
 * with the reason.
 */
#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "fixture.h"
#include "../ext4_jbd2.h"

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

/*
 * Most bios a window may fail: more than the window submits, so that every
 * data bio of a write fails and every retry of a read.
 */
#define WRITE_FAILURES	16
#define READ_FAILURES	64

static const struct ext4_kunit_config *cfg(struct kunit *test)
{
	return test->param_value;
}

static bool iomap_path(struct kunit *test)
{
	return cfg(test)->path == EXT4_KUNIT_IOMAP;
}

/*
 * The range whose I/O fails, one extent: four pages, or four blocks where
 * blocks are larger, so that it always holds whole blocks.  It is written
 * at once, so with large folios it may be one folio.
 */
static size_t range_bytes(struct kunit *test)
{
	return 4 * max_t(size_t, PAGE_SIZE, cfg(test)->geo->blocksize);
}

static unsigned int range_blocks(struct kunit *test)
{
	return range_bytes(test) / cfg(test)->geo->blocksize;
}

/* A string of @nr times @c, as ext4_kunit_extent_map() gives. */
static const char *repeat(struct kunit *test, char c, unsigned int nr)
{
	char *s = kunit_kzalloc(test, nr + 1, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	memset(s, c, nr);
	return s;
}

static struct super_block *sb_of(struct ext4_kunit_fs *fs)
{
	return fs->mnt->mnt_sb;
}

static journal_t *journal_of(struct ext4_kunit_fs *fs)
{
	return EXT4_SB(sb_of(fs))->s_journal;
}

/*
 * The fail_make_request attribute and its fields as the test found them,
 * and the window: the disk and how many bios it may fail.
 */
struct io_fault {
	struct kunit *test;
	struct fault_attr *attr;
	unsigned long probability;
	unsigned long interval;
	unsigned long verbose;
	int times;
	int space;
	bool task_filter;
	struct block_device *bdev;
	int budget;
};

#if IS_ENABLED(CONFIG_FAIL_MAKE_REQUEST) && \
	IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)
static struct fault_attr *find_fail_make_request(void)
{
	struct fault_attr *attr = NULL;
	struct dentry *dir, *file;

	dir = debugfs_lookup("fail_make_request", NULL);
	if (IS_ERR_OR_NULL(dir))
		return NULL;
	file = debugfs_lookup("probability", dir);
	if (!IS_ERR_OR_NULL(file)) {
		attr = container_of(d_inode(file)->i_private,
				    struct fault_attr, probability);
		dput(file);
	}
	dput(dir);
	return attr;
}

static void io_fault_restore(void *data)
{
	struct io_fault *io = data;
	struct fault_attr *attr = io->attr;

	if (io->bdev)
		bdev_clear_flag(io->bdev, BD_MAKE_IT_FAIL);
	attr->probability = io->probability;
	attr->interval = io->interval;
	attr->verbose = io->verbose;
	atomic_set(&attr->times, io->times);
	atomic_set(&attr->space, io->space);
	attr->task_filter = io->task_filter;
}

/*
 * Set the attribute to fail every bio of a task with make_it_fail to a
 * disk with BD_MAKE_IT_FAIL, while "times" is not 0, quietly; "times" is 0
 * outside a window.
 */
static int io_fault_setup(struct io_fault *io)
{
	struct fault_attr *attr = find_fail_make_request();

	if (!attr)
		return -ENOENT;
	io->attr = attr;
	io->probability = attr->probability;
	io->interval = attr->interval;
	io->verbose = attr->verbose;
	io->times = atomic_read(&attr->times);
	io->space = atomic_read(&attr->space);
	io->task_filter = attr->task_filter;
	atomic_set(&attr->times, 0);
	attr->task_filter = true;
	attr->probability = 100;
	attr->interval = 1;
	atomic_set(&attr->space, 0);
	attr->verbose = 0;
	return kunit_add_action_or_reset(io->test, io_fault_restore, io);
}

static void io_fault_arm(struct io_fault *io, int budget)
{
	io->budget = budget;
	atomic_set(&io->attr->times, budget);
	current->make_it_fail = 1;
	bdev_set_flag(io->bdev, BD_MAKE_IT_FAIL);
}

/* Close the window; return how many bios it failed. */
static int io_fault_disarm(struct io_fault *io)
{
	bdev_clear_flag(io->bdev, BD_MAKE_IT_FAIL);
	current->make_it_fail = 0;
	return io->budget - atomic_xchg(&io->attr->times, 0);
}
#else
static int io_fault_setup(struct io_fault *io)
{
	return -EOPNOTSUPP;
}

static void io_fault_arm(struct io_fault *io, int budget)
{
}

static int io_fault_disarm(struct io_fault *io)
{
	return 0;
}
#endif

/*
 * Take the fault attribute, or skip the test saying why: to be called
 * before mounting.
 */
static struct io_fault *io_fault_get(struct kunit *test)
{
	struct io_fault *io = kunit_kzalloc(test, sizeof(*io), GFP_KERNEL);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, io);
	io->test = test;
	err = io_fault_setup(io);
	if (err == -EOPNOTSUPP)
		kunit_skip(test,
			   "needs CONFIG_FAIL_MAKE_REQUEST=y and CONFIG_FAULT_INJECTION_DEBUG_FS=y");
	if (err == -ENOENT)
		kunit_skip(test, "fail_make_request/probability not found in debugfs");
	KUNIT_ASSERT_EQ(test, err, 0);
	return io;
}

static void io_fault_start(struct io_fault *io, struct ext4_kunit_fs *fs,
			   int budget)
{
	io->bdev = sb_of(fs)->s_bdev;
	io_fault_arm(io, budget);
}

/* Neither an ext4 error nor an aborted journal: no metadata I/O failed. */
static void expect_fs_healthy(struct ext4_kunit_fs *fs, const char *when)
{
	KUNIT_EXPECT_FALSE_MSG(fs->test,
			       EXT4_SB(sb_of(fs))->s_mount_state & EXT4_ERROR_FS,
			       "ext4 recorded an error %s", when);
	KUNIT_EXPECT_FALSE_MSG(fs->test, is_journal_aborted(journal_of(fs)),
			       "journal aborted %s", when);
}

/*
 * Commit and checkpoint everything, as EXT4_IOC_CHECKPOINT does: the
 * metadata is in place on disk, and the journal holds nothing to replay.
 */
static void checkpoint(struct ext4_kunit_fs *fs)
{
	journal_t *journal = journal_of(fs);
	int err;

	ext4_kunit_sync_fs(fs);
	jbd2_journal_lock_updates(journal);
	err = jbd2_journal_flush(journal, 0);
	jbd2_journal_unlock_updates(journal);
	KUNIT_ASSERT_EQ(fs->test, err, 0);
}

static void write_pattern(struct ext4_kunit_fs *fs, struct file *f, u8 seed,
			  loff_t pos, size_t len)
{
	u8 *buf = kunit_kmalloc(fs->test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	ext4_kunit_fill(buf, seed, pos, len);
	ext4_kunit_write(fs, f, pos, buf, len);
	kunit_kfree(fs->test, buf);
}

/*
 * Fail unless [pos, pos + len) of @f reads as the pattern of @seed, or as
 * zeros for seed 0.
 */
static void expect_data(struct ext4_kunit_fs *fs, struct file *f, u8 seed,
			loff_t pos, size_t len, const char *what)
{
	u8 *buf = kunit_kmalloc(fs->test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	KUNIT_ASSERT_EQ_MSG(fs->test, ext4_kunit_read(fs, f, pos, buf, len),
			    len, "%s: short read at %lld", what, pos);
	for (i = 0; i < len; i++) {
		u8 want = seed ? ext4_kunit_pattern(seed, pos + i) : 0;

		if (buf[i] != want) {
			KUNIT_FAIL(fs->test, "%s: byte %lld is %#x, expected %#x",
				   what, pos + i, buf[i], want);
			break;
		}
	}
	kunit_kfree(fs->test, buf);
}

/*
 * Allocate once before any window, so that the allocation writeback does
 * in a window finds the block bitmap in memory.
 */
static void warm_up(struct ext4_kunit_fs *fs)
{
	struct file *f = ext4_kunit_create(fs, "warm");

	write_pattern(fs, f, 0x11, 0, fs->geo->blocksize);
	ext4_kunit_fsync(fs, f);
}

/*
 * Write back [pos, pos + len) of @f with up to @budget of the bios that the
 * test's thread submits failed, and wait until the write is finished (on
 * the iomap path, by the completion work).  Return how many bios failed.
 */
static int writeback_failing(struct io_fault *io, struct ext4_kunit_fs *fs,
			     struct file *f, loff_t pos, loff_t len, int budget)
{
	struct address_space *mapping = f->f_mapping;
	int failed;

	io_fault_start(io, fs, budget);
	filemap_fdatawrite_range(mapping, pos, pos + len - 1);
	failed = io_fault_disarm(io);
	filemap_fdatawait_range_keep_errors(mapping, pos, pos + len - 1);
	KUNIT_EXPECT_GT_MSG(fs->test, failed, 0,
			    "no bio failed writing back %lld bytes at %lld",
			    len, pos);
	KUNIT_EXPECT_LE_MSG(fs->test, failed, budget,
			    "more bios failed than asked for");
	return failed;
}

/* The legacy error flag, which fsync clears as it reports the error. */
static bool as_eio(struct address_space *mapping)
{
	return test_bit(AS_EIO, &mapping->flags);
}

/* Neither dirty nor under writeback: nothing is left to write. */
static void expect_folios_settled(struct ext4_kunit_fs *fs, struct file *f,
				  loff_t pos, loff_t len)
{
	struct address_space *mapping = f->f_mapping;
	pgoff_t index;

	for (index = pos >> PAGE_SHIFT; index <= (pos + len - 1) >> PAGE_SHIFT;
	     index++) {
		struct folio *folio = filemap_get_folio(mapping, index);

		KUNIT_ASSERT_FALSE_MSG(fs->test, IS_ERR(folio),
				       "folio %lu left the page cache", index);
		KUNIT_EXPECT_FALSE_MSG(fs->test, folio_test_dirty(folio),
				       "folio %lu is still dirty", index);
		KUNIT_EXPECT_FALSE_MSG(fs->test, folio_test_writeback(folio),
				       "folio %lu is still under writeback",
				       index);
		folio_put(folio);
	}
	KUNIT_EXPECT_FALSE(fs->test, mapping_tagged(mapping, PAGECACHE_TAG_DIRTY));
	KUNIT_EXPECT_FALSE(fs->test,
			   mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK));
}

/*
 * A failed writeback is reported by fsync as -EIO, once to each file open
 * at the time, through the mapping's errseq (wb_err), which a file samples
 * when it is opened: a file opened after the error sees it too while no
 * one has seen it yet, and not once it has been reported.  The folios are
 * neither dirty nor under writeback any more: the data stays in the page
 * cache, uptodate, until it is written again or dropped.  The blocks
 * allocated for it stay unwritten.  data_err=ignore (the default) leaves
 * the journal alone.  Up to there both paths behave the same.
 *
 * A new write of the range then succeeds on both paths, fsync included,
 * but only the iomap path gets it to the file: its writeback maps the
 * range again, finds the blocks unwritten and converts them once the write
 * is done.  The buffer_head path loses it.  Its failed writeback left the
 * buffers mapped and no longer unwritten (mpage_process_folio() clears
 * the flag when it maps them, and ext4_end_io_end() converts nothing after
 * an error), so the next writeback writes them as blocks that are already
 * written: the data goes to disk, but the extent stays unwritten and the
 * range reads as zeros once the page cache is dropped.  That is a defect
 * of the buffer_head path in the base kernel, not of this series; the case
 * states it, so that a fix of it shows here.
 */
static void writeback_error_reaches_fsync(struct kunit *test)
{
	struct io_fault *io = io_fault_get(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	unsigned int nr = range_blocks(test);
	struct file *f, *early, *unseen, *late;
	bool iomap = iomap_path(test);
	struct address_space *mapping;
	errseq_t since;

	warm_up(fs);
	f = ext4_kunit_create(fs, "eio");
	mapping = f->f_mapping;
	write_pattern(fs, f, 1, 0, range_bytes(test));
	early = ext4_kunit_open(fs, "eio");
	since = filemap_sample_wb_err(mapping);

	writeback_failing(io, fs, f, 0, range_bytes(test), WRITE_FAILURES);
	expect_fs_healthy(fs, "after a failed data write (data_err=ignore)");
	expect_folios_settled(fs, f, 0, range_bytes(test));
	KUNIT_EXPECT_EQ_MSG(test, filemap_check_wb_err(mapping, since), -EIO,
			    "no error in the mapping's errseq since before the writeback");
	KUNIT_EXPECT_TRUE_MSG(test, as_eio(mapping),
			      "AS_EIO not set on the mapping");
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, nr),
			       repeat(test, 'U', nr),
			       "blocks whose write failed are not unwritten");
	unseen = ext4_kunit_open(fs, "eio");

	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(f, 0), -EIO,
			    "first fsync after the failed writeback");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(f, 0), 0,
			    "second fsync of the same file");
	late = ext4_kunit_open(fs, "eio");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(early, 0), -EIO,
			    "first fsync of a file opened before the error");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(early, 0), 0,
			    "second fsync of a file opened before the error");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(unseen, 0), -EIO,
			    "fsync of a file opened before the error was seen");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(late, 0), 0,
			    "fsync of a file opened after the error was reported");
	KUNIT_EXPECT_FALSE_MSG(test, as_eio(mapping),
			       "AS_EIO still set after fsync reported the error");

	expect_data(fs, f, 1, 0, range_bytes(test), "page cache after the failed writeback");
	write_pattern(fs, f, 2, 0, range_bytes(test));
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(f, 0), 0,
			    "fsync of a new write of the range");
	expect_fs_healthy(fs, "after the new write");
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, nr),
			       repeat(test, iomap ? 'W' : 'U', nr),
			       "blocks of the new write, on the %s path",
			       iomap ? "iomap" : "buffer_head");
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "eio");
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(f)), (loff_t)range_bytes(test));
	expect_data(fs, f, iomap ? 2 : 0, 0, range_bytes(test),
		    iomap ? "new write after remount" :
			    "new write after remount, lost on the buffer_head path");
}

/*
 * With data_err=abort, a data write that fails aborts the journal, with
 * -EIO, before the writeback of the range ends; ext4 notices at its next
 * handle, records an error and refuses changes.  Both for blocks that the
 * writeback allocates, and for an overwrite of written blocks inside
 * i_disksize.
 *
 * The two paths get there differently.  The buffer_head path aborts when it
 * finishes the io_end of a failed bio (ext4_end_io_end()): with brd, whose
 * bios complete in the submitter, within the writeback call, in the test's
 * thread.  That is why the window fails one bio only: the journal
 * superblock that the abort writes there must get to disk.  The iomap path
 * does not order data through jbd2 (no data=ordered); with data_err=abort
 * it sends every write to the completion work (ext4_iomap_ioend_needs_work(),
 * which an overwrite needs for nothing else), and ext4_iomap_finish_ioend()
 * aborts there, before it ends the writeback of the folios.
 *
 * The filesystem left behind is what an abort leaves: the error recorded
 * in the superblock, and a journal that was checkpointed before the window
 * and holds nothing to replay.  The fixture is told to expect the error,
 * and e2fsck checks the image as for every test.
 */
static void data_err_abort(struct kunit *test, bool overwrite)
{
	struct io_fault *io = io_fault_get(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test),
						    "data_err=abort");
	unsigned int nr = range_blocks(test);
	journal_t *journal = journal_of(fs);
	struct file *f, *other;

	KUNIT_ASSERT_TRUE(test, test_opt(sb_of(fs), DATA_ERR_ABORT));
	warm_up(fs);
	f = ext4_kunit_create(fs, "abort");
	if (overwrite) {
		write_pattern(fs, f, 3, 0, range_bytes(test));
		ext4_kunit_fsync(fs, f);
		KUNIT_ASSERT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, nr),
				   repeat(test, 'W', nr));
	}
	checkpoint(fs);
	write_pattern(fs, f, 9, 0, range_bytes(test));

	KUNIT_EXPECT_EQ(test, writeback_failing(io, fs, f, 0, range_bytes(test), 1), 1);
	KUNIT_EXPECT_TRUE_MSG(test, is_journal_aborted(journal),
			      "a failed data write with data_err=abort left the journal running");
	KUNIT_EXPECT_EQ(test, journal->j_errno, -EIO);
	expect_folios_settled(fs, f, 0, range_bytes(test));

	other = file_open_root_mnt(fs->mnt, "other", O_CREAT | O_RDWR, 0644);
	KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(other), -EROFS,
			    "creating a file after the abort");
	if (!IS_ERR(other))
		__fput_sync(other);
	KUNIT_EXPECT_TRUE_MSG(test, ext4_emergency_ro(sb_of(fs)),
			      "ext4 not read-only after the abort");
	KUNIT_EXPECT_TRUE_MSG(test,
			      EXT4_SB(sb_of(fs))->s_mount_state & EXT4_ERROR_FS,
			      "ext4 recorded no error after the abort");
	if (EXT4_SB(sb_of(fs))->s_mount_state & EXT4_ERROR_FS)
		ext4_kunit_expect_error(fs);
}

static void data_err_abort_new_blocks(struct kunit *test)
{
	data_err_abort(test, false);
}

static void data_err_abort_overwrite(struct kunit *test)
{
	data_err_abort(test, true);
}

/*
 * Fill the free space with a file whose blocks all hold @block, then
 * truncate it to 0 and commit: its blocks are free again, and still hold
 * its data, and they are all that later allocations can get.  The pool
 * of clusters that ext4 keeps back for metadata (s_resv_clusters, sysfs
 * reserved_clusters) would stay free and never written: the file gets it
 * too.
 *
 * The file is allocated with fallocate() and its blocks are written on
 * the device, not through the page cache.  Filling the space with
 * delayed writes instead, as this did once, failed now and then under
 * KASAN, whose timing interleaves writeback with the writes differently:
 * with the reserved pool emptied and every free cluster claimed by a
 * delayed block, writeback must not need a block for the extent tree,
 * but a file split into more extents than its inode holds does, and so
 * does converting part of an unwritten extent.  The fsync failed with
 * -ENOSPC there (4k-iomap, in one run), or writeback retried the
 * allocation for as long as the bitmaps showed free clusters, which they
 * did, and a writer waiting for it hung in ext4_nonda_switch().  Both
 * paths do that when the pool is empty; the pool exists to prevent it.
 */
static void fill_and_free(struct ext4_kunit_fs *fs, const u8 *block)
{
	struct ext4_sb_info *sbi = EXT4_SB(sb_of(fs));
	s64 resv = atomic64_read(&sbi->s_resv_clusters);
	size_t bs = fs->geo->blocksize, i;
	struct ext4_map_blocks map;
	struct file *victim;
	struct inode *inode;
	unsigned int bits;
	loff_t ret, len;
	u8 *buf;

	buf = kunit_kmalloc(fs->test, SZ_64K, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	for (i = 0; i < SZ_64K; i += bs)
		memcpy(buf + i, block, bs);
	victim = ext4_kunit_create(fs, "victim");
	inode = file_inode(victim);
	bits = inode->i_blkbits;
	atomic64_set(&sbi->s_resv_clusters, 0);
	ret = vfs_fallocate(victim, 0, 0, EXT4_KUNIT_IMAGE_BYTES);
	KUNIT_ASSERT_EQ_MSG(fs->test, ret, -ENOSPC,
			    "fallocate() did not fill the filesystem");
	KUNIT_ASSERT_EQ_MSG(fs->test,
			    percpu_counter_sum(&sbi->s_freeclusters_counter),
			    0LL, "free clusters left after filling");

	/* Write @block into every block of every extent of the file. */
	map.m_lblk = 0;
	while (map.m_lblk < EXT4_KUNIT_IMAGE_BYTES >> bits) {
		map.m_len = (EXT4_KUNIT_IMAGE_BYTES >> bits) - map.m_lblk;
		inode_lock_shared(inode);
		ret = ext4_map_blocks(NULL, inode, &map, 0);
		inode_unlock_shared(inode);
		KUNIT_ASSERT_GE(fs->test, ret, 0);
		if (!ret)
			break;
		for (len = 0; len < (loff_t)map.m_len << bits; len += SZ_64K)
			ext4_kunit_raw_io(fs, REQ_OP_WRITE,
					  ((loff_t)map.m_pblk << bits) + len, buf,
					  min_t(loff_t, SZ_64K,
						((loff_t)map.m_len << bits) - len));
		map.m_lblk += map.m_len;
	}
	KUNIT_ASSERT_GT_MSG(fs->test, map.m_lblk, 0U,
			    "fallocate() allocated nothing");
	ext4_kunit_truncate(fs, victim, 0);
	atomic64_set(&sbi->s_resv_clusters, resv);
	ext4_kunit_sync_fs(fs);
	kunit_kfree(fs->test, buf);
}

/* Each block of [lblk, lblk + nr) of @f holds @block on the device. */
static void expect_blocks_hold(struct ext4_kunit_fs *fs, struct file *f,
			       ext4_lblk_t lblk, unsigned int nr,
			       const u8 *block, const char *what)
{
	size_t bs = fs->geo->blocksize;
	u8 *buf = kunit_kmalloc(fs->test, bs, GFP_KERNEL);
	ext4_fsblk_t pblk;
	unsigned int b;

	KUNIT_ASSERT_NOT_NULL(fs->test, buf);
	for (b = 0; b < nr; b++) {
		pblk = ext4_kunit_pblk(fs, f, lblk + b);
		ext4_kunit_raw_io(fs, REQ_OP_READ, pblk * bs, buf, bs);
		KUNIT_EXPECT_EQ_MSG(fs->test, memcmp(buf, block, bs), 0,
				    "%s: block %u (physical %llu) does not hold the deleted file's data",
				    what, lblk + b, pblk);
	}
	kunit_kfree(fs->test, buf);
}

/*
 * After a remount, a range whose writeback failed reads as it was on disk
 * before the write: an overwrite keeps the old data, and blocks allocated
 * for the write (appended, or filling a hole) read as zeros, although they
 * hold what a deleted file wrote there: the test fills the free space
 * with such a file first, and checks on the device that the blocks do
 * hold its data.
 *
 * The paths differ in the size of the appended file.  The buffer_head path
 * moves i_disksize to the end of the range when it submits the write, in
 * the handle that allocates: after the remount the file has its new size
 * and the range reads as zeros from its unwritten blocks.  The iomap path
 * moves i_disksize only once the write has succeeded: the file is empty
 * after the remount, with its unwritten blocks past EOF; truncating it up
 * over them shows zeros too.
 *
 * The hole is one cluster of the bigalloc geometry, so that its blocks are
 * newly allocated there too (the rest of a cluster with a written block
 * would not be).
 */
static void failed_write_exposes_no_stale_data(struct kunit *test)
{
	struct io_fault *io = io_fault_get(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	size_t bs = cfg(test)->geo->blocksize;
	loff_t unit = max_t(loff_t, PAGE_SIZE, cfg(test)->geo->clustersize);
	loff_t hole = unit, tail = unit + range_bytes(test);
	unsigned int nr = range_blocks(test), i;
	struct file *old, *holey, *new;
	u8 *block;

	block = kunit_kmalloc(test, bs, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, block);
	for (i = 0; i < bs; i++)
		block[i] = ext4_kunit_pattern(6, i);

	/* Written blocks to write over, and a file with a hole. */
	old = ext4_kunit_create(fs, "old");
	write_pattern(fs, old, 4, 0, range_bytes(test));
	ext4_kunit_fsync(fs, old);
	holey = ext4_kunit_create(fs, "holey");
	write_pattern(fs, holey, 5, 0, hole);
	write_pattern(fs, holey, 5, tail, unit);
	ext4_kunit_fsync(fs, holey);
	fill_and_free(fs, block);

	new = ext4_kunit_create(fs, "new");
	write_pattern(fs, new, 7, 0, range_bytes(test));
	writeback_failing(io, fs, new, 0, range_bytes(test), WRITE_FAILURES);
	write_pattern(fs, holey, 7, hole, range_bytes(test));
	writeback_failing(io, fs, holey, hole, range_bytes(test), WRITE_FAILURES);
	write_pattern(fs, old, 7, 0, range_bytes(test));
	writeback_failing(io, fs, old, 0, range_bytes(test), WRITE_FAILURES);
	expect_fs_healthy(fs, "after the failed writebacks");
	expect_blocks_hold(fs, new, 0, nr, block, "appended range");
	expect_blocks_hold(fs, holey, hole / bs, nr, block, "filled hole");
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, new, 0, nr),
			       repeat(test, 'U', nr), "appended range");
	KUNIT_EXPECT_STREQ_MSG(test,
			       ext4_kunit_extent_map(fs, holey, hole / bs, nr),
			       repeat(test, 'U', nr), "filled hole");

	ext4_kunit_remount(fs);
	old = ext4_kunit_open(fs, "old");
	expect_data(fs, old, 4, 0, range_bytes(test), "overwrite whose write failed");
	holey = ext4_kunit_open(fs, "holey");
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(holey)), tail + unit);
	expect_data(fs, holey, 5, 0, hole, "before the hole");
	expect_data(fs, holey, 0, hole, range_bytes(test), "hole whose filling failed");
	expect_data(fs, holey, 5, tail, unit, "after the hole");
	new = ext4_kunit_open(fs, "new");
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(new)),
			    iomap_path(test) ? 0 : (loff_t)range_bytes(test),
			    "size of a file whose appending write failed");
	ext4_kunit_truncate(fs, new, range_bytes(test));
	expect_data(fs, new, 0, 0, range_bytes(test), "appended range whose write failed");
}

/*
 * A read whose bios fail returns -EIO, and leaves no folio of the range
 * uptodate; once the device works again the same read returns the data.
 * The page cache retries a failed readahead with ->read_folio, so a read
 * fails several bios.  Same on both paths.
 */
static void read_error_reaches_reader(struct kunit *test)
{
	struct io_fault *io = io_fault_get(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	u8 *buf = kunit_kzalloc(test, range_bytes(test), GFP_KERNEL);
	struct file *f;
	loff_t pos = 0;
	pgoff_t index;
	ssize_t ret;
	int failed;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	f = ext4_kunit_create(fs, "rd");
	write_pattern(fs, f, 8, 0, range_bytes(test));
	ext4_kunit_fsync(fs, f);
	ext4_kunit_drop_cache(fs, f);

	io_fault_start(io, fs, READ_FAILURES);
	ret = kernel_read(f, buf, range_bytes(test), &pos);
	failed = io_fault_disarm(io);
	KUNIT_EXPECT_EQ_MSG(test, ret, (ssize_t)-EIO, "read with failing bios");
	KUNIT_EXPECT_GT_MSG(test, failed, 0, "no read bio failed");
	KUNIT_EXPECT_LT_MSG(test, failed, READ_FAILURES,
			    "reads kept failing");
	expect_fs_healthy(fs, "after failed data reads");

	for (index = 0; index < range_bytes(test) >> PAGE_SHIFT; index++) {
		struct folio *folio = filemap_get_folio(f->f_mapping, index);

		if (IS_ERR(folio))
			continue;
		KUNIT_EXPECT_FALSE_MSG(test, folio_test_uptodate(folio),
				       "folio %lu uptodate after its read failed",
				       index);
		folio_put(folio);
	}
	expect_data(fs, f, 8, 0, range_bytes(test), "read once the device works");
}

static struct kunit_case ext4_io_error_cases[] = {
	KUNIT_CASE_PARAM(writeback_error_reaches_fsync, config_gen_params),
	KUNIT_CASE_PARAM(data_err_abort_new_blocks, config_gen_params),
	KUNIT_CASE_PARAM(data_err_abort_overwrite, config_gen_params),
	KUNIT_CASE_PARAM(failed_write_exposes_no_stale_data, config_gen_params),
	KUNIT_CASE_PARAM(read_error_reaches_reader, config_gen_params),
	{}
};

static struct kunit_suite ext4_io_error_suite = {
	.name = "ext4_io_error",
	.test_cases = ext4_io_error_cases,
};

kunit_test_suites(&ext4_io_error_suite);
