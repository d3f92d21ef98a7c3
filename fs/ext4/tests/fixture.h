/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit fixture: a real ext4 on an in-memory block device.
 *
 * Each test gets a brd ramdisk filled with a filesystem image that the host's
 * mke2fs made at build time (one image per geometry), mounted through the
 * fs_context API with the options the test asks for.  Everything the fixture
 * sets up is torn down by kunit_add_action(), so a test that fails half way
 * leaks no mount, file or memory.
 *
 * After the last unmount the fixture copies the filesystem to a slot of a
 * dump disk when there is one (UML's ubd0, or the disk that the parameter
 * ext4_test.dump_dev names), so that the host can run e2fsck -fn on every
 * filesystem a test left behind.
 */
#ifndef _EXT4_KUNIT_FIXTURE_H
#define _EXT4_KUNIT_FIXTURE_H

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/fs.h>

#include "../ext4.h"

/*
 * A slot on the dump disk; an image takes as many slots as it needs.  The
 * images of the geometries below the page size are one slot each.
 */
#define EXT4_KUNIT_SLOT_BYTES	(8U << 20)

struct ext4_kunit_geometry {
	const char *name;
	unsigned int blocksize;
	unsigned int clustersize;
	unsigned int bytes;		/* size of the filesystem */
	const u8 *image;		/* xz-compressed mke2fs image */
	const u8 *image_end;
};

/*
 * Block sizes below and at the page size, and 4k blocks in 16k bigalloc
 * clusters.  UML has no transparent huge pages, so 7.3 gives ext4 no large
 * folios there (mapping_set_folio_order_range() is a no-op without THP):
 * under UML a folio is one page.  With THP (x86_64 under qemu), the same
 * geometries run with large folios, and two more have blocks larger than a
 * page, which only large folios can cache: 16k and 64k blocks.  Their images
 * are larger, as jbd2's smallest journal is 1024 blocks.  Suites that place
 * folio boundaries use the folio size of the file, not PAGE_SIZE.
 */
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
#define EXT4_KUNIT_NR_GEOMETRIES 6
/* Largest image: 64k blocks, with a 64 MiB journal. */
#define EXT4_KUNIT_IMAGE_BYTES	(136U << 20)
#else
#define EXT4_KUNIT_NR_GEOMETRIES 4
#define EXT4_KUNIT_IMAGE_BYTES	(8U << 20)
#endif
extern const struct ext4_kunit_geometry
	ext4_kunit_geometries[EXT4_KUNIT_NR_GEOMETRIES];

/* The buffered I/O path a configuration mounts with. */
enum ext4_kunit_io_path {
	EXT4_KUNIT_BH,		/* buffer_heads, the default */
	EXT4_KUNIT_IOMAP,	/* iomap, mount option buffered_iomap */
};

/*
 * What a behaviour test runs over: every geometry on both buffered I/O
 * paths, named "<geometry>-bh" and "<geometry>-iomap".
 */
struct ext4_kunit_config {
	const char *name;
	const struct ext4_kunit_geometry *geo;
	enum ext4_kunit_io_path path;
};

#define EXT4_KUNIT_NR_CONFIGS (2 * EXT4_KUNIT_NR_GEOMETRIES)
extern const struct ext4_kunit_config
	ext4_kunit_configs[EXT4_KUNIT_NR_CONFIGS];

/* The images themselves, embedded with .incbin by images.c. */
#define EXT4_KUNIT_DECLARE_IMAGE(geo)				\
	extern const u8 ext4_kunit_image_##geo[];		\
	extern const u8 ext4_kunit_image_##geo##_end[]
EXT4_KUNIT_DECLARE_IMAGE(1k);
EXT4_KUNIT_DECLARE_IMAGE(2k);
EXT4_KUNIT_DECLARE_IMAGE(4k);
EXT4_KUNIT_DECLARE_IMAGE(bigalloc16k);
EXT4_KUNIT_DECLARE_IMAGE(16k);
EXT4_KUNIT_DECLARE_IMAGE(64k);

struct ext4_kunit_fs {
	struct kunit *test;
	const struct ext4_kunit_geometry *geo;
	enum ext4_kunit_io_path path;
	const char *opts;
	struct vfsmount *mnt;
	struct list_head files;
	/*
	 * Whether regular files of this mount get the iomap path: asked for
	 * (the configuration, or buffered_iomap in the options) and not ruled
	 * out by the filesystem or the other options.  Set at each mount.
	 */
	bool iomap;
	/*
	 * Opening a regular file asserts that it is on the path above, so
	 * that a test of one path cannot silently run on the other.  Tests
	 * that move files between paths clear this.
	 */
	bool check_path;
	/*
	 * The test made ext4 record an error on purpose and checked it
	 * (ext4_kunit_expect_error()): unmounts check that the error is
	 * recorded instead of failing the test for it.
	 */
	bool error_expected;
};

/*
 * Mount a fresh filesystem of @cfg's geometry with @opts ("opt1,opt2=val",
 * or NULL), on the buffered I/O path of @cfg: buffered_iomap is given
 * before @opts, so that @opts can override it.
 */
struct ext4_kunit_fs *ext4_kunit_mount(struct kunit *test,
				       const struct ext4_kunit_config *cfg,
				       const char *opts);
/* Unmount (writing everything back and evicting every inode) and mount. */
void ext4_kunit_remount(struct ext4_kunit_fs *fs);
/*
 * Remount in place with @opts, as "mount -o remount,@opts" does: the
 * filesystem stays mounted and cached inodes stay in memory.
 */
void ext4_kunit_reconfigure(struct ext4_kunit_fs *fs, const char *opts);
/*
 * Close @file and evict its inode (the test must hold no other reference
 * to it), so that the next open reads the inode from disk again.
 */
void ext4_kunit_evict(struct ext4_kunit_fs *fs, struct file *file);
/*
 * The test has made ext4 record an error on purpose (aborted its journal,
 * say) and checked that it did.  From now on, to the end of the test and
 * across remounts, unmounting checks that the error is recorded rather than
 * failing the test for it.  The filesystem left behind still goes to the
 * host's e2fsck, which must find it consistent.
 */
void ext4_kunit_expect_error(struct ext4_kunit_fs *fs);
/* "iomap" or "buffer_head": the path a regular file's buffered I/O takes. */
const char *ext4_kunit_path_name(struct inode *inode);

/*
 * The device below every cache.  ext4_kunit_raw_io() reads or writes @len
 * bytes at byte @pos of the device with bios (@op REQ_OP_READ or
 * REQ_OP_WRITE; @pos and @len multiples of 512), bypassing the block
 * device's page cache and the filesystem's, so it sees and changes what a
 * crash would leave behind.
 */
void ext4_kunit_raw_io(struct ext4_kunit_fs *fs, blk_opf_t op, loff_t pos,
		       void *buf, size_t len);
/*
 * ext4_kunit_snapshot() copies the whole device, as it is now, into @image
 * (from ext4_kunit_image_buffer()): the state a crash would leave.
 */
void *ext4_kunit_image_buffer(struct kunit *test);
void ext4_kunit_snapshot(struct ext4_kunit_fs *fs, void *image);
/*
 * Unmount, put @snapshot back on the device and mount it: the mount
 * recovers from the journal as after a crash at the time of the snapshot.
 */
void ext4_kunit_crash_remount(struct ext4_kunit_fs *fs, const void *snapshot);
/* The physical block that holds logical block @lblk of @file. */
ext4_fsblk_t ext4_kunit_pblk(struct ext4_kunit_fs *fs, struct file *file,
			     ext4_lblk_t lblk);

/*
 * Run @fn(@arg) in a kernel thread, for operations a test expects to block:
 * ext4_kunit_bg_done() waits up to @ms milliseconds and tells whether @fn
 * has returned, with its result in *@ret.  At teardown the thread is waited
 * for, boundedly: a thread that never returns fails the test.
 */
struct ext4_kunit_bg;
struct ext4_kunit_bg *ext4_kunit_bg_start(struct kunit *test,
					  int (*fn)(void *arg), void *arg);
bool ext4_kunit_bg_done(struct ext4_kunit_bg *bg, unsigned int ms, int *ret);
/*
 * For a background thread that stores through a mapping of a file, as a
 * process does: ext4_kunit_bg_attach_mm() gives the calling thread an
 * address space of its own (NULL without memory), ext4_kunit_bg_detach_mm()
 * tears it down, with every mapping still in it.  The thread detaches
 * before it returns: a mapping pins its file, and with it the mount.
 */
struct mm_struct *ext4_kunit_bg_attach_mm(void);
void ext4_kunit_bg_detach_mm(struct mm_struct *mm);

/*
 * Write completions that come after the submission, as an interrupt brings
 * them from an asynchronous device.  brd completes a bio inside
 * submit_bio(), in the submitting task.  ext4_kunit_hold_bios() puts a stub
 * on ext4_iomap_end_bio(), the end_io of the iomap path's writes that ext4
 * finishes itself (ordered writes, and writes whose completion needs a
 * transaction), for the test's task: it keeps each such bio that @keep()
 * accepts (each one when @keep is NULL) instead of completing it.
 * ext4_kunit_complete_held_bios() completes them from the test's task, in
 * the order they came, and ends the holding.  Teardown does the same, so
 * hold after setting up anything the completions must reach before it is
 * torn down (teardown runs in reverse order).  One hold at a time: the
 * helper owns test->priv, where the stub finds its state.
 */
struct ext4_kunit_held_bios {
	struct kunit *test;
	bool (*keep)(struct bio *bio);
	struct bio_list bios;
	unsigned int nr;		/* bios held now */
	bool holding;
};

struct ext4_kunit_held_bios *ext4_kunit_hold_bios(struct kunit *test,
						  bool (*keep)(struct bio *bio));
void ext4_kunit_complete_held_bios(struct ext4_kunit_held_bios *held);

/*
 * Files are closed by ext4_kunit_remount() and at teardown; a test reopens
 * them by name after a remount.
 */
struct file *ext4_kunit_create(struct ext4_kunit_fs *fs, const char *name);
struct file *ext4_kunit_open(struct ext4_kunit_fs *fs, const char *name);

/* Each helper fails the test (KUNIT_ASSERT) when the operation fails. */
void ext4_kunit_write(struct ext4_kunit_fs *fs, struct file *file, loff_t pos,
		      const void *buf, size_t len);
size_t ext4_kunit_read(struct ext4_kunit_fs *fs, struct file *file,
		       loff_t pos, void *buf, size_t len);
void ext4_kunit_fsync(struct ext4_kunit_fs *fs, struct file *file);
void ext4_kunit_truncate(struct ext4_kunit_fs *fs, struct file *file,
			 loff_t size);
void ext4_kunit_fallocate(struct ext4_kunit_fs *fs, struct file *file,
			  int mode, loff_t pos, loff_t len);
void ext4_kunit_drop_cache(struct ext4_kunit_fs *fs, struct file *file);
/* Write back and commit everything, as syncfs(2) does. */
void ext4_kunit_sync_fs(struct ext4_kunit_fs *fs);

/*
 * Block states over [lblk, lblk + nr), one character a block, returned as a
 * string the test owns:
 *
 *   ext4_kunit_extent_map(), from the on-disk extent tree:
 *	'W' written, 'U' unwritten, '.' not mapped
 *   ext4_kunit_status_map(), from the extent status tree:
 *	'W' written, 'U' unwritten, 'D' delayed, 'H' hole, '-' not cached
 */
char *ext4_kunit_extent_map(struct ext4_kunit_fs *fs, struct file *file,
			    ext4_lblk_t lblk, unsigned int nr);
char *ext4_kunit_status_map(struct ext4_kunit_fs *fs, struct file *file,
			    ext4_lblk_t lblk, unsigned int nr);

/*
 * A byte pattern that differs per offset and per seed and is never zero, so
 * that data can never be mistaken for a zeroed range.
 */
static inline u8 ext4_kunit_pattern(u8 seed, loff_t pos)
{
	return (seed + pos * 7 + (pos >> 8) * 13) % 255 + 1;
}

void ext4_kunit_fill(void *buf, u8 seed, loff_t pos, size_t len);

/*
 * Folio sizes.  Opening a regular file asserts that its mapping allows
 * large folios wherever the kernel has them (THP), so that a case cannot
 * silently run with order-0 folios only.
 *
 * ext4_kunit_min_folio_size(): the smallest folio of @file's page cache, a
 * page unless blocks are larger than a page.  ext4_kunit_max_folio_size():
 * the largest.  ext4_kunit_folio_size_at(): the size of the folio that
 * caches byte @pos of @file, 0 if none does.  ext4_kunit_folio_at(): the
 * folio itself, locked and referenced (put it with folio_unlock() and
 * folio_put()), or NULL.  ext4_kunit_assert_large_folio(): assert that the
 * folio caching @pos holds more than one page where the kernel has large
 * folios, so that a test can show its writes really produced one.
 */
size_t ext4_kunit_min_folio_size(struct file *file);
size_t ext4_kunit_max_folio_size(struct file *file);
struct folio *ext4_kunit_folio_at(struct file *file, loff_t pos);
size_t ext4_kunit_folio_size_at(struct file *file, loff_t pos);
void ext4_kunit_assert_large_folio(struct ext4_kunit_fs *fs, struct file *file,
				   loff_t pos);

#endif /* _EXT4_KUNIT_FIXTURE_H */
