// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit fixture: a real ext4 on an in-memory block device.  See fixture.h.
 *
 * Built-in suites run from kernel_init_freeable(), before devtmpfs is mounted
 * on /dev, so the fixture makes the block device node it mounts from itself,
 * in the root of rootfs.  KUnit runs tests in kernel threads, whose root is
 * the empty nullfs: path lookups (the node, the mount source) are done under
 * scoped_with_init_fs(), against the root that init and userspace see.
 *
 * Files and mounts are dropped with __fput_sync() and an SB_KERNMOUNT mount:
 * KUnit runs tests in kernel threads, where fput() and the last mntput() of
 * an ordinary mount are deferred to a workqueue.  A remount (or the next test)
 * must find the old superblock gone, not merely queued for release.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/bio.h>
#include <linux/fs_context.h>
#include <linux/fs_struct.h>
#include <linux/kthread.h>
#include <linux/major.h>
#include <linux/moduleparam.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/vmalloc.h>
#include <linux/xz.h>

#include "fixture.h"
#include "../ext4_extents.h"
#include "../ext4_jbd2.h"
/* reconfigure_super(): EXT4_KUNIT_IO_TESTS is built in, never a module. */
#include "../../internal.h"

#define RAMDISK_DEV	MKDEV(RAMDISK_MAJOR, 0)
#define RAMDISK_PATH	"/ext4-kunit-ram0"

/*
 * The disk that receives a copy of each test's final filesystem, for the
 * host's e2fsck: UML's first ubd disk unless the harness names another one,
 * such as qemu's virtio disk (ext4_test.dump_dev=vda).
 */
static char *dump_dev = "ubda";
module_param(dump_dev, charp, 0444);
MODULE_PARM_DESC(dump_dev, "disk that receives each test's filesystem for e2fsck");

struct ext4_kunit_file {
	struct list_head list;
	struct file *file;
};

static atomic_t ext4_kunit_dump_slots = ATOMIC_INIT(0);
/* ram0 holds one filesystem at a time: a second one would overwrite it. */
static atomic_t ext4_kunit_mounted = ATOMIC_INIT(0);

/* Each geometry on the buffer_head path, then on the iomap path. */
const struct ext4_kunit_config ext4_kunit_configs[EXT4_KUNIT_NR_CONFIGS] = {
	{ .name = "1k-bh", .geo = &ext4_kunit_geometries[0],
	  .path = EXT4_KUNIT_BH },
	{ .name = "1k-iomap", .geo = &ext4_kunit_geometries[0],
	  .path = EXT4_KUNIT_IOMAP },
	{ .name = "2k-bh", .geo = &ext4_kunit_geometries[1],
	  .path = EXT4_KUNIT_BH },
	{ .name = "2k-iomap", .geo = &ext4_kunit_geometries[1],
	  .path = EXT4_KUNIT_IOMAP },
	{ .name = "4k-bh", .geo = &ext4_kunit_geometries[2],
	  .path = EXT4_KUNIT_BH },
	{ .name = "4k-iomap", .geo = &ext4_kunit_geometries[2],
	  .path = EXT4_KUNIT_IOMAP },
	{ .name = "bigalloc16k-bh", .geo = &ext4_kunit_geometries[3],
	  .path = EXT4_KUNIT_BH },
	{ .name = "bigalloc16k-iomap", .geo = &ext4_kunit_geometries[3],
	  .path = EXT4_KUNIT_IOMAP },
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	{ .name = "16k-bh", .geo = &ext4_kunit_geometries[4],
	  .path = EXT4_KUNIT_BH },
	{ .name = "16k-iomap", .geo = &ext4_kunit_geometries[4],
	  .path = EXT4_KUNIT_IOMAP },
	{ .name = "64k-bh", .geo = &ext4_kunit_geometries[5],
	  .path = EXT4_KUNIT_BH },
	{ .name = "64k-iomap", .geo = &ext4_kunit_geometries[5],
	  .path = EXT4_KUNIT_IOMAP },
#endif
};

KUNIT_DEFINE_ACTION_WRAPPER(vfree_action, vfree, const void *);
KUNIT_DEFINE_ACTION_WRAPPER(fput_sync_action, __fput_sync, struct file *);

void ext4_kunit_fill(void *buf, u8 seed, loff_t pos, size_t len)
{
	u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = ext4_kunit_pattern(seed, pos + i);
}

static int make_ramdisk_node(void)
{
	struct dentry *dentry;
	struct path parent;
	int err;

	scoped_with_init_fs() {
		dentry = start_creating_path(AT_FDCWD, RAMDISK_PATH, &parent, 0);
		if (IS_ERR(dentry))
			return PTR_ERR(dentry) == -EEXIST ? 0 : PTR_ERR(dentry);
		err = vfs_mknod(mnt_idmap(parent.mnt), d_inode(parent.dentry),
				dentry, S_IFBLK | 0600, RAMDISK_DEV, NULL);
		end_creating_path(&parent, dentry);
	}
	return err;
}

/* Decompress the geometry's image into a buffer of geo->bytes. */
static size_t unpack_image(struct kunit *test,
			   const struct ext4_kunit_geometry *geo, void *out)
{
	struct xz_buf b = {
		.in = geo->image,
		.in_size = geo->image_end - geo->image,
		.out = out,
		.out_size = geo->bytes,
	};
	struct xz_dec *xz;
	enum xz_ret ret;

	xz = xz_dec_init(XZ_SINGLE, 0);
	KUNIT_ASSERT_NOT_NULL(test, xz);
	ret = xz_dec_run(xz, &b);
	xz_dec_end(xz);
	KUNIT_ASSERT_EQ_MSG(test, ret, XZ_STREAM_END,
			    "image %s does not unpack (xz_dec_run() = %d)",
			    geo->name, ret);
	KUNIT_ASSERT_EQ_MSG(test, b.out_pos, (size_t)geo->bytes,
			    "image %s is not the size images.c gives",
			    geo->name);
	return b.out_pos;
}

/*
 * The images unpacked, one per geometry, kept for the rest of the run:
 * unpacking 8 MiB costs more than most tests do.  The kernel halts after
 * the run, so they are never freed.
 */
static void *unpacked[EXT4_KUNIT_NR_GEOMETRIES];
static size_t unpacked_size[EXT4_KUNIT_NR_GEOMETRIES];
static DEFINE_MUTEX(unpacked_lock);

static const void *unpacked_image(struct kunit *test,
				  const struct ext4_kunit_geometry *geo,
				  size_t *size)
{
	unsigned int i = geo - ext4_kunit_geometries;
	void *buf;

	KUNIT_ASSERT_LT(test, i, EXT4_KUNIT_NR_GEOMETRIES);
	mutex_lock(&unpacked_lock);
	if (!unpacked[i]) {
		buf = vmalloc(geo->bytes);
		if (buf) {
			unpacked_size[i] = unpack_image(test, geo, buf);
			unpacked[i] = buf;
		}
	}
	mutex_unlock(&unpacked_lock);
	KUNIT_ASSERT_NOT_NULL(test, unpacked[i]);
	*size = unpacked_size[i];
	return unpacked[i];
}

/*
 * Overwrite ram0 with a fresh copy of the geometry's image: discard it all
 * (brd drops the pages, which then read as zeros) and write the parts of
 * the image that are not zeros, which are few.
 */
static void fill_ramdisk(struct kunit *test,
			 const struct ext4_kunit_geometry *geo)
{
	struct file *bdev_file;
	struct block_device *bdev;
	const u8 *image;
	size_t size, off;
	int err;

	err = make_ramdisk_node();
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "cannot create %s", RAMDISK_PATH);
	bdev_file = bdev_file_open_by_dev(RAMDISK_DEV,
					  BLK_OPEN_READ | BLK_OPEN_WRITE,
					  NULL, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(bdev_file),
			       "cannot open ram0 (%pe): is CONFIG_BLK_DEV_RAM=y?",
			       bdev_file);
	err = kunit_add_action_or_reset(test, fput_sync_action, bdev_file);
	KUNIT_ASSERT_EQ(test, err, 0);
	bdev = file_bdev(bdev_file);
	KUNIT_ASSERT_GE_MSG(test, bdev_nr_bytes(bdev),
			    (loff_t)EXT4_KUNIT_IMAGE_BYTES,
			    "ram0 is too small: CONFIG_BLK_DEV_RAM_SIZE must be at least %u",
			    EXT4_KUNIT_IMAGE_BYTES >> 10);

	image = unpacked_image(test, geo, &size);
	invalidate_bdev(bdev);
	err = blkdev_issue_discard(bdev, 0, bdev_nr_sectors(bdev), GFP_KERNEL);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "cannot discard ram0");
	for (off = 0; off < size; off += SZ_64K) {
		size_t len = min_t(size_t, SZ_64K, size - off);
		loff_t pos = off;

		if (!memchr_inv(image + off, 0, len))
			continue;
		KUNIT_ASSERT_EQ(test, kernel_write(bdev_file, image + off, len,
						   &pos), (ssize_t)len);
	}
	KUNIT_ASSERT_EQ(test, vfs_fsync(bdev_file, 0), 0);
	/* Let the mount read everything from the device, as after a reboot. */
	invalidate_bdev(bdev);

	kunit_release_action(test, fput_sync_action, bdev_file);
}

/* Hand "opt1,opt2=val" (or NULL) to @fc, an option at a time. */
static int parse_opts(struct kunit *test, struct fs_context *fc,
		      const char *opts)
{
	char *buf, *p, *key;
	int err = 0;

	buf = kstrdup(opts ?: "", GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = buf;
	while (!err && (key = strsep(&p, ",")) != NULL) {
		char *val = strchr(key, '=');

		if (!*key)
			continue;
		if (val)
			*val++ = '\0';
		err = vfs_parse_fs_string(fc, key, val);
		if (err)
			kunit_err(test, "mount option '%s' rejected: %d", key, err);
	}
	kfree(buf);
	return err;
}

/* Whether regular files created or read from now on get the iomap path. */
static bool mount_gives_iomap(struct super_block *sb)
{
	return test_opt2(sb, BUFFERED_IOMAP) &&
	       !ext4_buffered_iomap_unsupported(sb);
}

/*
 * Mount ram0 as ext4 on fs->path, with fs->opts ("opt1,opt2=val"; NULL for
 * none).
 */
static void mount_fs(struct ext4_kunit_fs *fs)
{
	struct kunit *test = fs->test;
	struct file_system_type *type;
	struct fs_context *fc;
	int err = 0;

	type = get_fs_type("ext4");
	KUNIT_ASSERT_NOT_NULL(test, type);
	/* SB_KERNMOUNT: the last mntput() tears the mount down at once. */
	fc = fs_context_for_mount(type, SB_KERNMOUNT);
	put_filesystem(type);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fc);

	err = vfs_parse_fs_string(fc, "source", RAMDISK_PATH);
	if (!err && fs->path == EXT4_KUNIT_IOMAP)
		err = vfs_parse_fs_string(fc, "buffered_iomap", NULL);
	if (!err)
		err = parse_opts(test, fc, fs->opts);
	if (!err) {
		/* get_tree_bdev() looks the source up by path. */
		scoped_with_init_fs()
			fs->mnt = fc_mount_longterm(fc);
		if (IS_ERR(fs->mnt)) {
			err = PTR_ERR(fs->mnt);
			fs->mnt = NULL;
		}
	}
	put_fs_context(fc);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "mounting %s as ext4 (%s, \"%s\") failed",
			    RAMDISK_PATH, fs->geo->name, fs->opts ?: "");
	KUNIT_ASSERT_EQ_MSG(test, fs->mnt->mnt_sb->s_blocksize,
			    (unsigned long)fs->geo->blocksize,
			    "image %s has the wrong block size", fs->geo->name);
	fs->iomap = mount_gives_iomap(fs->mnt->mnt_sb);
}

static void close_files(struct ext4_kunit_fs *fs)
{
	struct ext4_kunit_file *of, *next;

	list_for_each_entry_safe(of, next, &fs->files, list) {
		list_del(&of->list);
		__fput_sync(of->file);
		kfree(of);
	}
}

static void unmount_fs(struct ext4_kunit_fs *fs)
{
	struct file *claim;
	bool error;

	close_files(fs);
	if (!fs->mnt)
		return;
	/*
	 * The images are made with errors=continue: an ext4_error() would
	 * not stop the test, so look for one before the state goes to disk.
	 */
	error = EXT4_SB(fs->mnt->mnt_sb)->s_mount_state & EXT4_ERROR_FS;
	if (error != fs->error_expected)
		KUNIT_FAIL(fs->test, "ext4 recorded %s on %s (%s)",
			   error ? "an error" : "no error, which the test expected",
			   fs->geo->name, fs->opts ?: "");
	kern_unmount(fs->mnt);
	fs->mnt = NULL;
	/* kill_block_super() gives the block device back with fput(). */
	flush_delayed_fput();
	/*
	 * A reference the test still holds (an open file, a shared mapping)
	 * keeps the superblock alive: the next mount would get it back, page
	 * cache and all, instead of reading the device.  Claiming ram0 tells.
	 */
	claim = bdev_file_open_by_dev(RAMDISK_DEV, BLK_OPEN_READ, fs, NULL);
	if (IS_ERR(claim))
		KUNIT_FAIL(fs->test,
			   "ram0 is still in use after unmount (%pe): is a file or mapping of it still open?",
			   claim);
	else
		__fput_sync(claim);
}

/*
 * Write the image in @buf to @dump at @pos, leaving out the chunks that are
 * all zeros: the dump file starts sparse, so they read as zeros there, and
 * most of an image is unused space.
 */
static int copy_nonzero(struct file *dump, const u8 *buf, size_t len,
			loff_t pos)
{
	const size_t chunk = SZ_64K;
	size_t off;

	for (off = 0; off < len; off += chunk) {
		loff_t at = pos + off;

		if (!memchr_inv(buf + off, 0, chunk))
			continue;
		if (kernel_write(dump, buf + off, chunk, &at) != chunk)
			return -EIO;
	}
	return 0;
}

/*
 * Open the disk named by dump_dev.  Built-in suites run before devtmpfs is
 * on /dev, so it is found by name among the block devices, not by a path.
 */
static struct file *open_dump_dev(void)
{
	struct device *dev;
	dev_t devt;

	dev = class_find_device_by_name(&block_class, dump_dev);
	if (!dev)
		return ERR_PTR(-ENODEV);
	devt = dev->devt;
	put_device(dev);
	return bdev_file_open_by_dev(devt, BLK_OPEN_READ | BLK_OPEN_WRITE,
				     NULL, NULL);
}

/*
 * Copy ram0 into the next slot of the dump disk and log which test it came
 * from; the harness runs e2fsck -fn on each slot after the kernel halts.
 */
static void dump_fs(struct ext4_kunit_fs *fs)
{
	unsigned int nslots = DIV_ROUND_UP(fs->geo->bytes, EXT4_KUNIT_SLOT_BYTES);
	size_t len = fs->geo->bytes;
	struct file *dump, *ram;
	loff_t in = 0, out;
	unsigned int slot;
	void *buf;
	int err = 0;

	dump = open_dump_dev();
	if (IS_ERR(dump)) {
		pr_info_once("ext4-kunit: no dump disk %s (%pe): filesystems are not checked after the run\n",
			     dump_dev, dump);
		return;
	}
	/* A larger filesystem takes several slots; the log names the first. */
	slot = atomic_add_return(nslots, &ext4_kunit_dump_slots) - nslots;
	out = (loff_t)slot * EXT4_KUNIT_SLOT_BYTES;
	buf = vmalloc(len);
	ram = bdev_file_open_by_dev(RAMDISK_DEV, BLK_OPEN_READ, NULL, NULL);
	if (out + len > bdev_nr_bytes(file_bdev(dump)))
		err = -ENOSPC;
	else if (!buf)
		err = -ENOMEM;
	else if (IS_ERR(ram))
		err = PTR_ERR(ram);
	if (!err) {
		/* Data went to ram0 by bio: drop the stale cached copy. */
		invalidate_bdev(file_bdev(ram));
		if (kernel_read(ram, buf, len, &in) != len ||
		    copy_nonzero(dump, buf, len, out) || vfs_fsync(dump, 0))
			err = -EIO;
	}
	if (err)
		pr_err("ext4-kunit: dump failed: %s: %s %s: %d\n",
		       fs->test->name, fs->geo->name, fs->opts ?: "", err);
	else
		pr_info("ext4-kunit: e2fsck slot %u: %s: %s %s\n", slot,
			fs->test->name, fs->geo->name, fs->opts ?: "");
	if (!IS_ERR(ram))
		__fput_sync(ram);
	vfree(buf);
	__fput_sync(dump);
}

/*
 * ram0 holds a filesystem from fill_ramdisk() on, even if a (re)mount failed:
 * hand it to e2fsck in every case.
 */
static void ext4_kunit_fs_release(void *data)
{
	struct ext4_kunit_fs *fs = data;

	unmount_fs(fs);
	dump_fs(fs);
}

static void ext4_kunit_ram0_put(void *unused)
{
	atomic_dec(&ext4_kunit_mounted);
}

struct ext4_kunit_fs *ext4_kunit_mount(struct kunit *test,
				       const struct ext4_kunit_config *cfg,
				       const char *opts)
{
	struct ext4_kunit_fs *fs;
	int err;

	fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs);
	fs->test = test;
	fs->geo = cfg->geo;
	fs->path = cfg->path;
	fs->opts = opts;
	fs->check_path = true;
	INIT_LIST_HEAD(&fs->files);

	if (atomic_inc_return(&ext4_kunit_mounted) != 1) {
		atomic_dec(&ext4_kunit_mounted);
		KUNIT_FAIL_AND_ABORT(test,
				     "one mount per test: ram0 is in use");
	}
	err = kunit_add_action_or_reset(test, ext4_kunit_ram0_put, NULL);
	KUNIT_ASSERT_EQ(test, err, 0);
	fill_ramdisk(test, fs->geo);
	err = kunit_add_action_or_reset(test, ext4_kunit_fs_release, fs);
	KUNIT_ASSERT_EQ(test, err, 0);
	mount_fs(fs);
	return fs;
}

void ext4_kunit_remount(struct ext4_kunit_fs *fs)
{
	unmount_fs(fs);
	mount_fs(fs);
}

void ext4_kunit_reconfigure(struct ext4_kunit_fs *fs, const char *opts)
{
	struct super_block *sb = fs->mnt->mnt_sb;
	struct fs_context *fc;
	int err;

	fc = fs_context_for_reconfigure(sb->s_root, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(fs->test, fc);
	err = parse_opts(fs->test, fc, opts);
	if (!err) {
		down_write(&sb->s_umount);
		err = reconfigure_super(fc);
		up_write(&sb->s_umount);
	}
	put_fs_context(fc);
	KUNIT_ASSERT_EQ_MSG(fs->test, err, 0, "remount,%s failed", opts);
	fs->iomap = mount_gives_iomap(sb);
}

void ext4_kunit_expect_error(struct ext4_kunit_fs *fs)
{
	fs->error_expected = true;
}

const char *ext4_kunit_path_name(struct inode *inode)
{
	return ext4_inode_buffered_iomap(inode) ? "iomap" : "buffer_head";
}

/*
 * Where the kernel has large folios (THP), a regular file's mapping must
 * allow them, with blocks above the page size as its smallest folio; only
 * data=journal keeps a file to its smallest folio.  Without THP a folio is
 * a page, and blocks above the page size do not mount.  Like the path
 * check, skipped for tests that move files between paths: a cached inode
 * keeps the folio orders it was loaded with.
 */
static void assert_folio_orders(struct ext4_kunit_fs *fs, const char *name,
				struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;
	unsigned int min_order = EXT4_SB(inode->i_sb)->s_min_folio_order;

	KUNIT_ASSERT_EQ_MSG(fs->test, mapping_min_folio_order(mapping),
			    min_order,
			    "%s: smallest folio of order %u for %u-byte blocks",
			    name, mapping_min_folio_order(mapping),
			    fs->geo->blocksize);
	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ||
	    ext4_should_journal_data(inode))
		return;
	KUNIT_ASSERT_TRUE_MSG(fs->test, mapping_large_folio_support(mapping),
			      "%s: no large folios on %s (%s)", name,
			      fs->geo->name, fs->opts ?: "");
	KUNIT_ASSERT_GT_MSG(fs->test, mapping_max_folio_order(mapping),
			    min_order,
			    "%s: largest folio no larger than the smallest on %s",
			    name, fs->geo->name);
}

size_t ext4_kunit_min_folio_size(struct file *file)
{
	return PAGE_SIZE << mapping_min_folio_order(file->f_mapping);
}

size_t ext4_kunit_max_folio_size(struct file *file)
{
	return PAGE_SIZE << mapping_max_folio_order(file->f_mapping);
}

struct folio *ext4_kunit_folio_at(struct file *file, loff_t pos)
{
	struct folio *folio = filemap_lock_folio(file->f_mapping,
						 pos >> PAGE_SHIFT);

	return IS_ERR(folio) ? NULL : folio;
}

size_t ext4_kunit_folio_size_at(struct file *file, loff_t pos)
{
	struct folio *folio = ext4_kunit_folio_at(file, pos);
	size_t size;

	if (!folio)
		return 0;
	size = folio_size(folio);
	folio_unlock(folio);
	folio_put(folio);
	return size;
}

void ext4_kunit_assert_large_folio(struct ext4_kunit_fs *fs, struct file *file,
				   loff_t pos)
{
	size_t size = ext4_kunit_folio_size_at(file, pos);

	KUNIT_ASSERT_NE_MSG(fs->test, size, 0,
			    "no folio caches byte %lld", pos);
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		KUNIT_ASSERT_GT_MSG(fs->test, size, PAGE_SIZE,
				    "byte %lld is in a folio of one page on %s (%s)",
				    pos, fs->geo->name, fs->opts ?: "");
}

static struct file *track_file(struct ext4_kunit_fs *fs, const char *name,
			       struct file *file)
{
	struct ext4_kunit_file *of;
	struct inode *inode;

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(fs->test, file, "cannot open %s", name);
	of = kzalloc_obj(*of);
	if (!of)
		__fput_sync(file);
	KUNIT_ASSERT_NOT_NULL(fs->test, of);
	of->file = file;
	list_add(&of->list, &fs->files);

	inode = file_inode(file);
	if (fs->check_path && S_ISREG(inode->i_mode))
		KUNIT_ASSERT_EQ_MSG(fs->test, ext4_inode_buffered_iomap(inode),
				    fs->iomap,
				    "%s is on the %s path on a %s mount (%s)",
				    name, ext4_kunit_path_name(inode),
				    fs->iomap ? "buffered_iomap" : "buffer_head",
				    fs->opts ?: "");
	if (fs->check_path && S_ISREG(inode->i_mode))
		assert_folio_orders(fs, name, inode);
	return file;
}

void ext4_kunit_evict(struct ext4_kunit_fs *fs, struct file *file)
{
	struct super_block *sb = fs->mnt->mnt_sb;
	unsigned long ino = file_inode(file)->i_ino;
	struct ext4_kunit_file *of, *found = NULL;
	struct inode *inode;

	list_for_each_entry(of, &fs->files, list) {
		if (of->file == file)
			found = of;
	}
	KUNIT_ASSERT_NOT_NULL_MSG(fs->test, found,
				  "inode %lu: file not opened by the fixture",
				  ino);
	list_del(&found->list);
	kfree(found);
	/* The last dput() and iput() drop the dentry and evict the inode. */
	d_mark_dontcache(file_inode(file));
	__fput_sync(file);

	inode = ilookup(sb, ino);
	if (inode)
		iput(inode);
	KUNIT_ASSERT_NULL_MSG(fs->test, inode,
			      "inode %lu is still cached after its last close",
			      ino);
}

struct file *ext4_kunit_create(struct ext4_kunit_fs *fs, const char *name)
{
	return track_file(fs, name, file_open_root_mnt(fs->mnt, name,
			O_CREAT | O_TRUNC | O_RDWR | O_LARGEFILE, 0644));
}

struct file *ext4_kunit_open(struct ext4_kunit_fs *fs, const char *name)
{
	return track_file(fs, name, file_open_root_mnt(fs->mnt, name,
			O_RDWR | O_LARGEFILE, 0));
}

void ext4_kunit_write(struct ext4_kunit_fs *fs, struct file *file, loff_t pos,
		      const void *buf, size_t len)
{
	loff_t at = pos;

	KUNIT_ASSERT_EQ_MSG(fs->test, kernel_write(file, buf, len, &at),
			    (ssize_t)len, "short write of %zu bytes at %lld",
			    len, pos);
}

size_t ext4_kunit_read(struct ext4_kunit_fs *fs, struct file *file,
		       loff_t pos, void *buf, size_t len)
{
	ssize_t ret = kernel_read(file, buf, len, &pos);

	KUNIT_ASSERT_GE_MSG(fs->test, ret, 0, "read at %lld failed", pos);
	return ret;
}

void ext4_kunit_fsync(struct ext4_kunit_fs *fs, struct file *file)
{
	KUNIT_ASSERT_EQ(fs->test, vfs_fsync(file, 0), 0);
}

void ext4_kunit_truncate(struct ext4_kunit_fs *fs, struct file *file,
			 loff_t size)
{
	KUNIT_ASSERT_EQ_MSG(fs->test, vfs_truncate(&file->f_path, size), 0,
			    "truncate to %lld failed", size);
}

void ext4_kunit_fallocate(struct ext4_kunit_fs *fs, struct file *file,
			  int mode, loff_t pos, loff_t len)
{
	KUNIT_ASSERT_EQ_MSG(fs->test, vfs_fallocate(file, mode, pos, len), 0,
			    "fallocate(mode %#x, %lld, %lld) failed",
			    mode, pos, len);
}

void ext4_kunit_sync_fs(struct ext4_kunit_fs *fs)
{
	struct super_block *sb = fs->mnt->mnt_sb;
	int err;

	/* sync_filesystem() wants s_umount, as syncfs(2) takes it. */
	down_read(&sb->s_umount);
	err = sync_filesystem(sb);
	up_read(&sb->s_umount);
	KUNIT_ASSERT_EQ_MSG(fs->test, err, 0, "sync_filesystem() failed");
}

void ext4_kunit_drop_cache(struct ext4_kunit_fs *fs, struct file *file)
{
	struct address_space *mapping = file->f_mapping;

	KUNIT_ASSERT_EQ(fs->test, filemap_write_and_wait(mapping), 0);
	KUNIT_ASSERT_EQ(fs->test, invalidate_inode_pages2(mapping), 0);
	KUNIT_ASSERT_EQ_MSG(fs->test, mapping->nrpages, 0UL,
			    "page cache not empty after invalidation");
}

char *ext4_kunit_extent_map(struct ext4_kunit_fs *fs, struct file *file,
			    ext4_lblk_t lblk, unsigned int nr)
{
	struct inode *inode = file_inode(file);
	char *map = kunit_kzalloc(fs->test, nr + 1, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(fs->test, map);
	KUNIT_ASSERT_TRUE(fs->test, ext4_test_inode_flag(inode, EXT4_INODE_EXTENTS));
	down_read(&EXT4_I(inode)->i_data_sem);
	for (i = 0; i < nr; i++) {
		ext4_lblk_t b = lblk + i;
		struct ext4_ext_path *path;
		struct ext4_extent *ex;

		/* NOCACHE: looking must not fill the extent status tree. */
		path = ext4_find_extent(inode, b, NULL, EXT4_EX_NOCACHE);
		if (IS_ERR(path)) {
			map[i] = '!';
			continue;
		}
		ex = path[path->p_depth].p_ext;
		if (ex && b >= le32_to_cpu(ex->ee_block) &&
		    b < le32_to_cpu(ex->ee_block) + ext4_ext_get_actual_len(ex))
			map[i] = ext4_ext_is_unwritten(ex) ? 'U' : 'W';
		else
			map[i] = '.';
		ext4_free_ext_path(path);
	}
	up_read(&EXT4_I(inode)->i_data_sem);
	return map;
}

char *ext4_kunit_status_map(struct ext4_kunit_fs *fs, struct file *file,
			    ext4_lblk_t lblk, unsigned int nr)
{
	char *map = kunit_kzalloc(fs->test, nr + 1, GFP_KERNEL);
	struct extent_status es;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(fs->test, map);
	for (i = 0; i < nr; i++) {
		if (!ext4_es_lookup_extent(file_inode(file), lblk + i, NULL,
					   &es, NULL))
			map[i] = '-';
		else if (ext4_es_is_delayed(&es))
			map[i] = 'D';
		else if (ext4_es_is_unwritten(&es))
			map[i] = 'U';
		else if (ext4_es_is_written(&es))
			map[i] = 'W';
		else
			map[i] = 'H';
	}
	return map;
}

void ext4_kunit_raw_io(struct ext4_kunit_fs *fs, blk_opf_t op, loff_t pos,
		       void *buf, size_t len)
{
	struct kunit *test = fs->test;
	struct file *bdev_file;
	u8 *p = buf;
	int err = 0;

	KUNIT_ASSERT_TRUE(test, IS_ALIGNED(pos | len, SECTOR_SIZE));
	bdev_file = bdev_file_open_by_dev(RAMDISK_DEV,
					  BLK_OPEN_READ | BLK_OPEN_WRITE,
					  NULL, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(bdev_file), "cannot open ram0 (%pe)",
			       bdev_file);
	while (len && !err) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE - offset_in_page(p));
		struct page *page = is_vmalloc_addr(p) ? vmalloc_to_page(p) :
							 virt_to_page(p);
		struct bio *bio;

		bio = bio_alloc(file_bdev(bdev_file), 1, op, GFP_KERNEL);
		bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
		__bio_add_page(bio, page, chunk, offset_in_page(p));
		err = submit_bio_wait(bio);
		bio_put(bio);
		pos += chunk;
		p += chunk;
		len -= chunk;
	}
	__fput_sync(bdev_file);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "raw %s of ram0 at %lld failed",
			    op == REQ_OP_READ ? "read" : "write", pos);
}

void *ext4_kunit_image_buffer(struct kunit *test)
{
	void *image = vmalloc(EXT4_KUNIT_IMAGE_BYTES);

	KUNIT_ASSERT_NOT_NULL(test, image);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vfree_action,
							image), 0);
	return image;
}

void ext4_kunit_snapshot(struct ext4_kunit_fs *fs, void *image)
{
	ext4_kunit_raw_io(fs, REQ_OP_READ, 0, image, fs->geo->bytes);
}

void ext4_kunit_crash_remount(struct ext4_kunit_fs *fs, const void *snapshot)
{
	struct file *bdev_file;

	unmount_fs(fs);
	ext4_kunit_raw_io(fs, REQ_OP_WRITE, 0, (void *)snapshot,
			  fs->geo->bytes);
	/* Nothing cached from before the "crash" may be read back. */
	bdev_file = bdev_file_open_by_dev(RAMDISK_DEV, BLK_OPEN_READ, NULL,
					  NULL);
	KUNIT_ASSERT_FALSE(fs->test, IS_ERR(bdev_file));
	invalidate_bdev(file_bdev(bdev_file));
	__fput_sync(bdev_file);
	mount_fs(fs);
}

ext4_fsblk_t ext4_kunit_pblk(struct ext4_kunit_fs *fs, struct file *file,
			     ext4_lblk_t lblk)
{
	struct inode *inode = file_inode(file);
	struct ext4_map_blocks map = { .m_lblk = lblk, .m_len = 1 };
	int ret;

	inode_lock_shared(inode);
	ret = ext4_map_blocks(NULL, inode, &map, 0);
	inode_unlock_shared(inode);
	KUNIT_ASSERT_EQ_MSG(fs->test, ret, 1,
			    "block %u of inode %llu is not allocated", lblk,
			    inode->i_ino);
	return map.m_pblk;
}

struct ext4_kunit_bg {
	struct kunit *test;
	int (*fn)(void *arg);
	void *arg;
	int ret;
	struct completion done;
};

static int bg_thread(void *data)
{
	struct ext4_kunit_bg *bg = data;

	bg->ret = bg->fn(bg->arg);
	/* Every later wait must see it: the test and the teardown both wait. */
	complete_all(&bg->done);
	return 0;
}

static void bg_release(void *data)
{
	struct ext4_kunit_bg *bg = data;

	/* A thread still running owns @bg: leave it rather than free it. */
	if (!wait_for_completion_timeout(&bg->done, 10 * HZ)) {
		KUNIT_FAIL(bg->test, "background operation still blocked at teardown");
		return;
	}
	kfree(bg);
}

struct ext4_kunit_bg *ext4_kunit_bg_start(struct kunit *test,
					  int (*fn)(void *arg), void *arg)
{
	struct ext4_kunit_bg *bg = kzalloc_obj(*bg);
	struct task_struct *task;

	KUNIT_ASSERT_NOT_NULL(test, bg);
	bg->test = test;
	bg->fn = fn;
	bg->arg = arg;
	init_completion(&bg->done);
	task = kthread_run(bg_thread, bg, "ext4-kunit-bg");
	if (IS_ERR(task))
		kfree(bg);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(task), "kthread_run: %pe", task);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bg_release, bg),
			0);
	return bg;
}

bool ext4_kunit_bg_done(struct ext4_kunit_bg *bg, unsigned int ms, int *ret)
{
	if (!wait_for_completion_timeout(&bg->done, msecs_to_jiffies(ms)))
		return false;
	if (ret)
		*ret = bg->ret;
	return true;
}

/*
 * kunit_attach_mm() serves the test thread, whose address space lives until
 * the thread exits, after the test has seen it end.  A background thread
 * drops its own before it returns instead, so that no mapping of a file can
 * outlive the thread's ext4_kunit_bg_done().
 */
struct mm_struct *ext4_kunit_bg_attach_mm(void)
{
	struct mm_struct *mm;

	if (WARN_ON_ONCE(current->mm))
		return NULL;
	mm = mm_alloc();
	if (!mm)
		return NULL;
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	kthread_use_mm(mm);
	return mm;
}

void ext4_kunit_bg_detach_mm(struct mm_struct *mm)
{
	kthread_unuse_mm(mm);
	/*
	 * The last user: unmaps everything.  The files it maps are put from
	 * a kernel thread, so their final fput() is deferred; unmounting
	 * flushes it (flush_delayed_fput()).
	 */
	mmput(mm);
}

static void hold_end_bio(struct bio *bio)
{
	struct ext4_kunit_held_bios *held = kunit_get_current_test()->priv;

	if (held->keep && !held->keep(bio)) {
		ext4_iomap_write_done_test(bio);
		return;
	}
	bio_list_add(&held->bios, bio);
	held->nr++;
}

static void complete_held_bios(struct ext4_kunit_held_bios *held)
{
	struct bio *bio;

	if (held->holding) {
		kunit_deactivate_static_stub(held->test,
					     ext4_iomap_end_bio_test);
		held->holding = false;
	}
	while ((bio = bio_list_pop(&held->bios)))
		ext4_iomap_write_done_test(bio);
	held->nr = 0;
}

KUNIT_DEFINE_ACTION_WRAPPER(complete_held_bios_action, complete_held_bios,
			    struct ext4_kunit_held_bios *);

struct ext4_kunit_held_bios *ext4_kunit_hold_bios(struct kunit *test,
						  bool (*keep)(struct bio *bio))
{
	struct ext4_kunit_held_bios *prev = test->priv;
	struct ext4_kunit_held_bios *held;
	int err;

	/* One stub: a second hold would end with the first. */
	KUNIT_ASSERT_FALSE_MSG(test, prev && prev->holding,
			       "bios are held already");
	held = kunit_kzalloc(test, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	held->test = test;
	held->keep = keep;
	bio_list_init(&held->bios);
	test->priv = held;
	kunit_activate_static_stub(test, ext4_iomap_end_bio_test, hold_end_bio);
	held->holding = true;
	err = kunit_add_action_or_reset(test, complete_held_bios_action, held);
	KUNIT_ASSERT_EQ(test, err, 0);
	return held;
}

void ext4_kunit_complete_held_bios(struct ext4_kunit_held_bios *held)
{
	/* Runs complete_held_bios() now, and not again at teardown. */
	kunit_release_action(held->test, complete_held_bios_action, held);
}
