// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ext4 buffered writes and write faults on a real filesystem.
 *
 * Every case runs on every geometry (1k, 2k and 4k blocks, and 4k blocks in
 * 16k bigalloc clusters) and on both buffered I/O paths (buffer_heads, and
 * iomap with the buffered_iomap mount option).  The expectations are the
 * same on both paths unless the design differs, and then each path's is
 * stated where it is checked:
 *
 *  - without delayed allocation, the iomap path allocates unwritten extents
 *    and moves i_disksize when writeback completes; the buffer_head path
 *    allocates written extents and moves i_disksize in write_end;
 *  - a write that copies less than it asked for (the user buffer faults part
 *    way) gives back, on the iomap path, the delayed blocks it reserved and
 *    did not write.  The buffer_head path keeps them until the inode is
 *    evicted; without delayed allocation it truncates the blocks it
 *    allocated past EOF, where the iomap path leaves them unwritten.
 *
 * User memory: KUnit runs a test in a kernel thread without an mm;
 * kunit_vm_mmap() gives it one (kunit_attach_mm()) and maps memory in it, so
 * that a test can write from a user buffer that faults part way, and store
 * through a shared mapping of a file as a process does.  Two things need
 * care.  vm_mmap() returns an error as an address, which kunit_vm_mmap()
 * passes on as if it were one.  And a mapping of a file pins the file, and
 * with it the mount, until the mapping goes: the test thread's mm is only
 * torn down after the thread has signalled its end, so a mapping left to it
 * could still hold the filesystem while the cleanup unmounts it and the next
 * test refills the ramdisk.  So every mapping of a file is made, used and
 * unmapped in one helper with no assertion in between.
 */
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/percpu_counter.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

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

static bool on_iomap(struct kunit *test)
{
	return cfg(test)->path == EXT4_KUNIT_IOMAP;
}

static u8 *alloc_buf(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

static loff_t isize(struct file *file)
{
	return i_size_read(file_inode(file));
}

static loff_t disksize(struct file *file)
{
	return READ_ONCE(EXT4_I(file_inode(file))->i_disksize);
}

static unsigned int reserved(struct file *file)
{
	return READ_ONCE(EXT4_I(file_inode(file))->i_reserved_data_blocks);
}

/* Clusters that hold a byte of [start, end). */
static unsigned int clusters(struct kunit *test, loff_t start, loff_t end)
{
	unsigned int cs = geo(test)->clustersize;

	return (end - 1) / cs - start / cs + 1;
}

/* @n copies of @c, as a string the test owns. */
static char *repeat(struct kunit *test, char c, unsigned int n)
{
	char *s = kunit_kzalloc(test, n + 1, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	memset(s, c, n);
	return s;
}

/* A formatted string the test owns. */
static __printf(2, 3) char *tprintf(struct kunit *test, const char *fmt, ...)
{
	char *s = kunit_kmalloc(test, 160, GFP_KERNEL);
	va_list args;

	KUNIT_ASSERT_NOT_NULL(test, s);
	va_start(args, fmt);
	vsnprintf(s, 160, fmt, args);
	va_end(args);
	return s;
}

static char *concat(struct kunit *test, const char *a, const char *b)
{
	return tprintf(test, "%s%s", a, b);
}

/*
 * Compare a status map with what is expected, where '?' stands for a hole:
 * a hole is 'H' when the extent status tree has cached it and '-' when it
 * has not, which depends on which lookups ran before, not on the write.
 */
static bool status_map_matches(const char *got, const char *want)
{
	for (; *got && *want; got++, want++) {
		if (*want == '?' ? *got != 'H' && *got != '-' : *got != *want)
			return false;
	}
	return *got == *want;
}

/* The status map of blocks [0, @nr) of @file is @want. */
static void expect_status_map(struct ext4_kunit_fs *fs, struct file *file,
			      unsigned int nr, const char *want,
			      const char *what)
{
	char *got = ext4_kunit_status_map(fs, file, 0, nr);

	KUNIT_EXPECT_TRUE_MSG(fs->test, status_map_matches(got, want),
			      "%s: status map %s, expected %s ('?': H or -)",
			      what, got, want);
}

/* Read [pos, pos + len) and fail at the first byte that differs from @want. */
static void expect_bytes(struct ext4_kunit_fs *fs, struct file *file,
			 loff_t pos, const u8 *want, size_t len,
			 const char *what)
{
	struct kunit *test = fs->test;
	u8 *buf = alloc_buf(test, len);
	size_t got, i;

	got = ext4_kunit_read(fs, file, pos, buf, len);
	KUNIT_EXPECT_EQ_MSG(test, got, len, "%s: short read at %lld", what, pos);
	for (i = 0; i < got; i++) {
		if (buf[i] != want[i]) {
			KUNIT_FAIL(test, "%s: byte %lld is %#x, expected %#x",
				   what, pos + i, buf[i], want[i]);
			break;
		}
	}
	kunit_kfree(test, buf);
}

/* The file is [0, size) of @want, and a read at EOF returns nothing. */
static void expect_file(struct ext4_kunit_fs *fs, struct file *file,
			const u8 *want, loff_t size, const char *what)
{
	u8 b;

	KUNIT_EXPECT_EQ_MSG(fs->test, isize(file), size, "%s: i_size", what);
	if (size)
		expect_bytes(fs, file, 0, want, size, what);
	KUNIT_EXPECT_EQ_MSG(fs->test, ext4_kunit_read(fs, file, size, &b, 1),
			    (size_t)0, "%s: read at EOF", what);
}

/* The page cache state of the folio at @index. */
enum folio_state { FOLIO_ABSENT, FOLIO_CLEAN, FOLIO_DIRTY };

static enum folio_state folio_state(struct file *file, pgoff_t index)
{
	struct folio *folio = filemap_get_folio(file->f_mapping, index);
	enum folio_state state;

	if (IS_ERR(folio))
		return FOLIO_ABSENT;
	state = folio_test_dirty(folio) ? FOLIO_DIRTY : FOLIO_CLEAN;
	folio_put(folio);
	return state;
}

/* The filesystem-wide cluster counters that delayed allocation moves. */
struct counters {
	s64 free;	/* s_freeclusters_counter: not allocated */
	s64 dirty;	/* s_dirtyclusters_counter: reserved for delalloc */
};

static struct counters read_counters(struct ext4_kunit_fs *fs)
{
	struct ext4_sb_info *sbi = EXT4_SB(fs->mnt->mnt_sb);

	return (struct counters) {
		.free = percpu_counter_sum(&sbi->s_freeclusters_counter),
		.dirty = percpu_counter_sum(&sbi->s_dirtyclusters_counter),
	};
}

static void expect_counters(struct ext4_kunit_fs *fs,
			    const struct counters *base, s64 allocated,
			    s64 reserved, const char *when)
{
	struct counters now = read_counters(fs);

	KUNIT_EXPECT_EQ_MSG(fs->test, now.free, base->free - allocated,
			    "%s: free clusters (baseline %lld)", when,
			    base->free);
	KUNIT_EXPECT_EQ_MSG(fs->test, now.dirty, base->dirty + reserved,
			    "%s: reserved (dirty) clusters (baseline %lld)",
			    when, base->dirty);
}

/*
 * Writes as sequences of operations on one file, checked against a model
 * of the file: its bytes, sizes, and the state of each block.
 */

/* Offsets and lengths in pages, quarter pages, blocks and bytes. */
struct span {
	int pages, quarters, blocks, bytes;
};

static loff_t span_bytes(const struct span *s, unsigned int bs)
{
	return (loff_t)s->pages * PAGE_SIZE + s->quarters * (PAGE_SIZE / 4) +
	       (loff_t)s->blocks * bs + s->bytes;
}

enum op_kind {
	OP_END,
	OP_WRITE,	/* write a new pattern at [at, at + len) */
	OP_READ,	/* read [at, at + len) into the page cache, check it */
	OP_SYNC,	/* fsync */
	OP_DROP,	/* write back and drop the page cache */
	/*
	 * The folio at page at.pages is cached but not uptodate as a whole:
	 * a read or write made only some of its blocks uptodate.  A folio of
	 * one block (4k blocks in a folio of a page, and blocks above the
	 * page size) cannot be partly uptodate: not checked there.
	 */
	OP_PARTIAL,
};

struct op {
	enum op_kind kind;
	struct span at, len;
};

#define DO_WRITE(...)	{ .kind = OP_WRITE, __VA_ARGS__ }
#define DO_READ(...)	{ .kind = OP_READ, __VA_ARGS__ }
#define SYNC		{ .kind = OP_SYNC }
#define DROP		{ .kind = OP_DROP }
#define PARTIAL(p)	{ .kind = OP_PARTIAL, .at = { .pages = (p) } }
#define AT(p, q, b, y)	.at = { p, q, b, y }
#define LEN(p, q, b, y)	.len = { p, q, b, y }

struct write_seq {
	const char *name;
	struct op ops[8];
};

static const struct write_seq write_seqs[] = {
	{ "holes before, after and between data", {
		/* block 2 alone */
		DO_WRITE(AT(0, 0, 2, 0), LEN(0, 0, 1, 0)),
		/* past EOF, leaving a gap */
		DO_WRITE(AT(0, 0, 5, 100), LEN(0, 0, 1, -50)),
		/* into the hole before the data */
		DO_WRITE(AT(0, 0, 0, 100), LEN(0, 0, 0, 100)),
		/* between data, across the boundary of blocks 3 and 4 */
		DO_WRITE(AT(0, 0, 4, -10), LEN(0, 0, 0, 20)),
		SYNC } },
	{ "another block of a folio partly written", {
		DO_WRITE(AT(1, 1, 0, 0), LEN(0, 1, 0, 0)),
		PARTIAL(1),
		DO_WRITE(AT(1, 3, 0, 10), LEN(0, 0, 0, 20)),
		/* from the folio before into the first quarter of this one */
		DO_WRITE(AT(0, 3, 0, 0), LEN(0, 2, 0, 0)),
		SYNC } },
	{ "partial writes into a folio dropped from the cache", {
		DO_WRITE(AT(1, 0, 0, 0), LEN(1, 0, 0, 0)),
		SYNC,
		DROP,
		/* read-modify-write of one block: the others stay unread */
		DO_WRITE(AT(1, 1, 0, 5), LEN(0, 0, 0, 10)),
		PARTIAL(1),
		DO_WRITE(AT(1, 3, 0, 1), LEN(0, 0, 0, 1)),
		SYNC } },
	{ "write past EOF into a folio read from disk", {
		DO_WRITE(AT(0, 0, 0, 0), LEN(0, 2, 0, 0)),
		SYNC,
		DROP,
		DO_READ(AT(0, 0, 0, 0), LEN(0, 0, 0, 10)),
		DO_WRITE(AT(0, 3, 0, 0), LEN(0, 0, 0, 100)),
		DO_WRITE(AT(0, 2, 0, -1), LEN(0, 0, 0, 2)),
		SYNC } },
	{ "unaligned, across block and folio boundaries", {
		DO_WRITE(AT(1, 0, 0, -3), LEN(0, 0, 0, 6)),
		DO_WRITE(AT(0, 0, 1, -5), LEN(0, 0, 0, 10)),
		DO_WRITE(AT(1, 0, 0, -100), LEN(2, 0, 0, 200)),
		DO_WRITE(AT(0, 0, 2, 1), LEN(0, 0, 0, 1)),
		SYNC } },
};

#undef DO_WRITE
#undef DO_READ
#undef SYNC
#undef DROP
#undef PARTIAL
#undef AT
#undef LEN

/*
 * Room for every sequence: 8 pages, or 8 blocks where blocks are larger
 * than a page; at most 32 blocks (of 1k).
 */
#define MODEL_PAGES	8
#define MODEL_BLOCKS	(MODEL_PAGES * PAGE_SIZE / 1024)

enum blk_state { BLK_HOLE, BLK_DELAYED, BLK_UNWRITTEN, BLK_WRITTEN };

struct model {
	struct ext4_kunit_fs *fs;
	struct file *file;
	const char *name;
	char fname[16];
	bool iomap, delalloc;
	unsigned int bs, nblocks, blocks_per_cluster;
	loff_t bytes, size, disksize;
	u8 *data;
	enum blk_state state[MODEL_BLOCKS];
	bool dirty[MODEL_BLOCKS];
};

/* Delayed blocks reserve their cluster unless it is allocated already. */
static unsigned int model_reserved(const struct model *m)
{
	unsigned int c, b, nr = 0;

	for (c = 0; c < m->nblocks; c += m->blocks_per_cluster) {
		bool delayed = false, allocated = false;

		for (b = c; b < c + m->blocks_per_cluster; b++) {
			delayed |= m->state[b] == BLK_DELAYED;
			allocated |= m->state[b] == BLK_UNWRITTEN ||
				     m->state[b] == BLK_WRITTEN;
		}
		nr += delayed && !allocated;
	}
	return nr;
}

static char *model_map(struct kunit *test, const struct model *m, bool status)
{
	static const char status_chars[] = { '?', 'D', 'U', 'W' };
	static const char extent_chars[] = { '.', '.', 'U', 'W' };
	char *s = repeat(test, ' ', m->nblocks);
	unsigned int b;

	for (b = 0; b < m->nblocks; b++)
		s[b] = (status ? status_chars : extent_chars)[m->state[b]];
	return s;
}

/*
 * Sizes, reservation and block states; with @content, the bytes too (a
 * read of the whole file, which makes every folio uptodate).
 */
static void model_check(struct model *m, const char *when, bool content,
			bool remounted)
{
	struct kunit *test = m->fs->test;
	char *what = tprintf(test, "%s: %s", m->name, when);

	KUNIT_EXPECT_EQ_MSG(test, isize(m->file), m->size, "%s: i_size", what);
	KUNIT_EXPECT_EQ_MSG(test, disksize(m->file), m->disksize,
			    "%s: i_disksize", what);
	KUNIT_EXPECT_STREQ_MSG(test,
			       ext4_kunit_extent_map(m->fs, m->file, 0, m->nblocks),
			       model_map(test, m, false), "%s: extent map", what);
	/* A remount starts with an empty extent status tree. */
	if (!remounted) {
		KUNIT_EXPECT_EQ_MSG(test, reserved(m->file), model_reserved(m),
				    "%s: i_reserved_data_blocks", what);
		expect_status_map(m->fs, m->file, m->nblocks,
				  model_map(test, m, true), what);
	}
	if (content)
		expect_file(m->fs, m->file, m->data, m->size, what);
}

/*
 * The folio that caches byte @pos of the file: its start and size, and
 * where the page cache has none, those of the page.  Writes copy into the
 * page cache a folio at a time, and with large folios a folio may be
 * anything from the smallest folio of the file to the length of a write.
 */
static void model_folio(struct model *m, loff_t pos, loff_t *start,
			loff_t *end)
{
	struct folio *folio = ext4_kunit_folio_at(m->file, pos);

	if (!folio) {
		*start = round_down(pos, PAGE_SIZE);
		*end = *start + PAGE_SIZE;
		return;
	}
	*start = folio_pos(folio);
	*end = folio_next_pos(folio);
	folio_unlock(folio);
	folio_put(folio);
}

/*
 * A write that starts past EOF first zeroes the rest of the EOF block
 * (ext4_write_checks()).  On the iomap path, when that block is unwritten
 * with dirty data over it, iomap_zero_range() writes the range back and
 * looks again instead of zeroing (it would take the block for one that
 * reads as zeros): the dirty blocks of the EOF folio, up to EOF, are
 * written, and i_disksize moves to EOF.  Written and delayed blocks are
 * zeroed in the page cache, on both paths, with no change of state.
 */
static void model_zero_eof(struct model *m)
{
	unsigned int b, eof_block = (m->size - 1) / m->bs;
	loff_t fstart, fend;

	if (!m->iomap || !(m->size % m->bs) ||
	    m->state[eof_block] != BLK_UNWRITTEN || !m->dirty[eof_block])
		return;
	model_folio(m, m->size - 1, &fstart, &fend);
	for (b = fstart / m->bs; (loff_t)b * m->bs < m->size; b++) {
		if (m->dirty[b] && m->state[b] != BLK_HOLE)
			m->state[b] = BLK_WRITTEN;
		m->dirty[b] = false;
	}
	m->disksize = max(m->disksize, m->size);
}

/*
 * On the iomap path, a write past an unaligned EOF in a block that is on
 * disk writes the zeroed rest of that block at once, and the completion of
 * that write, in the inode's completion work, sets i_disksize to i_size as
 * it finds it then: before or after the write moved i_size, as the work
 * happens to run (KASAN's timing gives both).
 */
static bool model_ordered_eof(const struct model *m, loff_t pos)
{
	return m->iomap && pos > m->size && m->size % m->bs &&
	       m->state[(m->size - 1) / m->bs] == BLK_WRITTEN;
}

/*
 * Wait for that completion, so that i_disksize no longer moves by itself,
 * and take what it published: no less than before the write, and no more
 * than i_size now.
 */
static void model_ordered_done(struct model *m, loff_t old_disksize)
{
	struct kunit *test = m->fs->test;
	loff_t now;

	flush_workqueue(EXT4_SB(file_inode(m->file)->i_sb)->rsv_conversion_wq);
	now = disksize(m->file);
	KUNIT_EXPECT_TRUE_MSG(test, now >= old_disksize && now <= m->size,
			      "%s: i_disksize %lld after the zeroed EOF block was written, expected %lld to %lld",
			      m->name, now, old_disksize, m->size);
	m->disksize = now;
}

/*
 * A write changes the blocks it touches: a hole becomes delayed, or without
 * delayed allocation is allocated at once, unwritten on the iomap path and
 * written on the buffer_head path.  Allocated and delayed blocks keep their
 * state until writeback.
 */
static void model_write(struct model *m, loff_t pos, size_t len, u8 seed)
{
	struct kunit *test = m->fs->test;
	loff_t end = pos + len, cs, ce, old_disksize = m->disksize;
	bool ordered = model_ordered_eof(m, pos);
	unsigned int b;

	KUNIT_ASSERT_LE_MSG(test, end, m->bytes,
			    "%s: write past the model", m->name);
	if (pos > m->size)
		model_zero_eof(m);
	ext4_kunit_fill(m->data + pos, seed, pos, len);
	ext4_kunit_write(m->fs, m->file, pos, m->data + pos, len);

	for (b = pos / m->bs; b <= (end - 1) / m->bs; b++) {
		if (m->state[b] == BLK_HOLE)
			m->state[b] = m->delalloc ? BLK_DELAYED :
				      m->iomap ? BLK_UNWRITTEN : BLK_WRITTEN;
		m->dirty[b] = true;
	}

	/*
	 * i_size follows each folio the write copies into.  The iomap path
	 * leaves i_disksize to the completion of writeback.  write_end of
	 * the buffer_head path moves it too: always without delayed
	 * allocation, and with it when the new last byte is in a written
	 * block (ext4_da_should_update_i_disksize()).  The folios are the
	 * ones the write left in the page cache.
	 */
	for (cs = pos; cs < end; cs = ce) {
		loff_t fstart;

		model_folio(m, cs, &fstart, &ce);
		ce = min(end, ce);
		if (ce <= m->size)
			continue;
		m->size = ce;
		if (!m->iomap && (!m->delalloc ||
				  m->state[(ce - 1) / m->bs] == BLK_WRITTEN))
			m->disksize = ce;
	}
	if (ordered)
		model_ordered_done(m, old_disksize);
}

/* Writeback writes the dirty blocks: all end up written. */
static void model_sync(struct model *m)
{
	unsigned int b;

	for (b = 0; b < m->nblocks; b++) {
		if (m->dirty[b] && m->state[b] != BLK_HOLE)
			m->state[b] = BLK_WRITTEN;
		m->dirty[b] = false;
	}
	m->disksize = m->size;
}

static void run_op(struct model *m, const struct op *op, unsigned int step,
		   u8 seed)
{
	struct kunit *test = m->fs->test;
	loff_t pos = span_bytes(&op->at, m->bs);
	size_t len = span_bytes(&op->len, m->bs);
	char *when = tprintf(test, "step %u", step);
	struct folio *folio;

	switch (op->kind) {
	case OP_WRITE:
		model_write(m, pos, len, seed);
		model_check(m, when, false, false);
		break;
	case OP_READ:
		expect_bytes(m->fs, m->file, pos, m->data + pos, len, m->name);
		break;
	case OP_SYNC:
		/* The page cache first, before writeback touches it. */
		model_check(m, when, true, false);
		ext4_kunit_fsync(m->fs, m->file);
		model_sync(m);
		model_check(m, concat(test, when, ", after fsync"), false, false);
		break;
	case OP_DROP:
		ext4_kunit_drop_cache(m->fs, m->file);
		model_sync(m);
		break;
	case OP_PARTIAL:
		folio = filemap_get_folio(m->file->f_mapping, op->at.pages);
		KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(folio),
				       "%s, %s: folio %d not cached", m->name,
				       when, op->at.pages);
		if (folio_size(folio) <= m->bs) {
			folio_put(folio);
			break;
		}
		KUNIT_EXPECT_FALSE_MSG(test, folio_test_uptodate(folio),
				       "%s, %s: folio %d is uptodate as a whole",
				       m->name, when, op->at.pages);
		folio_put(folio);
		break;
	case OP_END:
		break;
	}
}

static void model_init(struct kunit *test, struct model *m,
		       struct ext4_kunit_fs *fs, bool delalloc, size_t i)
{
	m->fs = fs;
	m->name = write_seqs[i].name;
	m->iomap = on_iomap(test);
	m->delalloc = delalloc;
	m->bs = geo(test)->blocksize;
	m->bytes = MODEL_PAGES * max_t(loff_t, PAGE_SIZE, m->bs);
	m->nblocks = m->bytes / m->bs;
	m->blocks_per_cluster = geo(test)->clustersize / m->bs;
	m->data = alloc_buf(test, m->bytes);
	snprintf(m->fname, sizeof(m->fname), "seq%zu", i);
	m->file = ext4_kunit_create(fs, m->fname);
}

/*
 * Run every sequence on its own file, then check each file after dropping
 * its cache and again after a remount.  Each write is checked at once for
 * sizes, reservation and block states (delayed before writeback on both
 * paths with delayed allocation), the bytes before and after each fsync.
 */
static void run_write_seqs(struct kunit *test, const char *opts,
			   bool delalloc)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), opts);
	struct model *models;
	size_t i, n = ARRAY_SIZE(write_seqs);

	models = kunit_kcalloc(test, n, sizeof(*models), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, models);
	for (i = 0; i < n; i++) {
		struct model *m = &models[i];
		const struct op *op;
		unsigned int step = 0;

		model_init(test, m, fs, delalloc, i);
		for (op = write_seqs[i].ops; op->kind != OP_END; op++, step++)
			run_op(m, op, step, 16 * i + step + 1);
		ext4_kunit_drop_cache(fs, m->file);
		model_sync(m);
		model_check(m, "after drop_cache", true, false);
	}

	ext4_kunit_remount(fs);
	for (i = 0; i < n; i++) {
		models[i].file = ext4_kunit_open(fs, models[i].fname);
		model_check(&models[i], "after remount", true, true);
	}
}

/* With delayed allocation, the default. */
static void write_delalloc(struct kunit *test)
{
	run_write_seqs(test, NULL, true);
}

static void write_nodelalloc(struct kunit *test)
{
	run_write_seqs(test, "nodelalloc", false);
}

/*
 * User buffers.
 */

/*
 * Map @pages pages of anonymous memory for the test thread, fill each with
 * the pattern of @seed at the file offsets it will be written to (from
 * @pos), and unmap the pages in @holes, where a copy from the buffer will
 * fault.
 */
static const char __user *user_buffer(struct kunit *test, unsigned int pages,
				      unsigned long holes, u8 seed, loff_t pos)
{
	u8 *page = alloc_buf(test, PAGE_SIZE);
	unsigned long addr;
	unsigned int i;

	addr = kunit_vm_mmap(test, NULL, 0, pages * PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
			     0);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr),
			       "kunit_vm_mmap() of %u anonymous pages: %ld",
			       pages, (long)addr);
	for (i = 0; i < pages; i++) {
		unsigned long at = addr + i * PAGE_SIZE;

		if (holes & BIT(i)) {
			KUNIT_ASSERT_EQ(test, vm_munmap(at, PAGE_SIZE), 0);
			continue;
		}
		ext4_kunit_fill(page, seed, pos + i * PAGE_SIZE, PAGE_SIZE);
		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)at, page,
						   PAGE_SIZE), 0UL);
	}
	kunit_kfree(test, page);
	return (const char __user *)addr;
}

static ssize_t write_user(struct file *file, const char __user *buf,
			  size_t len, loff_t pos)
{
	return vfs_write(file, buf, len, &pos);
}

/*
 * A delayed allocation write from a buffer whose second page is not mapped,
 * to an empty file: the write copies one page and returns that.
 *
 * iomap path: ext4_da_map_blocks() reserved both pages at once (a new
 * delayed range, EXT4_MAP_NEW), and ext4_iomap_delalloc_end() punches the
 * blocks past the last byte written, so the reservation of the second page
 * is given back at once: 'D' only for the first page, no folio for the
 * second (the copy into it got nothing, and iomap_write_failed() drops a
 * folio past EOF).
 *
 * buffer_head path: generic_perform_write() takes the second folio first
 * (ext4_da_write_begin() reserves its blocks, delayed and new), then the
 * copy faults.  ext4_da_write_end() makes the copy 0 (folio not uptodate),
 * block_write_end() zeroes the new buffers and marks them dirty
 * (folio_zero_new_buffers()), and i_size stays at the first page: the
 * second folio is dirty, zeroed, past EOF, over delayed blocks.  Writeback
 * never gets to it: mpage_process_page_bufs() ends the scan at the EOF
 * block (scanned_until_end), so the folio stays dirty and its blocks
 * delayed and reserved until the inode is evicted, when
 * truncate_inode_pages_final() drops the folio and ext4_clear_inode()
 * removes the blocks from the extent status tree, which releases their
 * clusters.
 *
 * On both paths the counters are back at the baseline plus what the
 * written page holds once the inode is evicted.
 */
static void short_delalloc_write(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize, bpp = PAGE_SIZE / bs;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "short");
	unsigned int c1 = clusters(test, 0, PAGE_SIZE);
	unsigned int c2 = clusters(test, 0, 2 * PAGE_SIZE);
	bool iomap = on_iomap(test);
	const char __user *ubuf;
	u8 *want = alloc_buf(test, PAGE_SIZE);
	unsigned int rsv;
	struct counters base;
	bool one_folio;
	ssize_t ret;

	/*
	 * The write stops at the user page that faults.  With blocks above
	 * the page size that is inside a block, which this case does not
	 * model: a gap, said so rather than checked against page-sized
	 * block states that cannot exist.
	 */
	if (bs > PAGE_SIZE)
		kunit_skip(test, "short write of a page inside a %u-byte block: not modelled",
			   bs);
	ubuf = user_buffer(test, 2, BIT(1), 1, 0);
	ext4_kunit_fill(want, 1, 0, PAGE_SIZE);
	base = read_counters(fs);

	ret = write_user(f, ubuf, 2 * PAGE_SIZE, 0);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)PAGE_SIZE,
			    "write of 2 pages from a buffer with 1 mapped page");
	KUNIT_EXPECT_EQ(test, isize(f), (loff_t)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, disksize(f), 0);
	expect_status_map(fs, f, 2 * bpp,
			  concat(test, repeat(test, 'D', bpp),
				 repeat(test, iomap ? '?' : 'D', bpp)),
			  "after the short write");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			   repeat(test, '.', 2 * bpp));
	rsv = iomap ? c1 : c2;
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), rsv, "i_reserved_data_blocks");
	expect_counters(fs, &base, 0, rsv, "after the short write");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 1),
			    iomap ? FOLIO_ABSENT : FOLIO_DIRTY,
			    "folio past the short write (0 absent, 2 dirty)");
	expect_file(fs, f, want, PAGE_SIZE, "after the short write");

	/*
	 * With large folios both pages may be in one folio, which writeback
	 * cleans as a whole, EOF inside it; the blocks of the second page
	 * still stay delayed.
	 */
	one_folio = ext4_kunit_folio_size_at(f, 0) > PAGE_SIZE;

	/*
	 * Writeback allocates the first page only.  On the buffer_head path
	 * the second page's folio stays dirty and its blocks delayed (see
	 * above); with bigalloc they share
	 * the first page's cluster, which writeback allocated, so nothing
	 * stays reserved for them.
	 */
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_EQ(test, disksize(f), (loff_t)PAGE_SIZE);
	expect_status_map(fs, f, 2 * bpp,
			  concat(test, repeat(test, 'W', bpp),
				 repeat(test, iomap ? '?' : 'D', bpp)),
			  "after fsync");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			   concat(test, repeat(test, 'W', bpp),
				  repeat(test, '.', bpp)));
	rsv = iomap ? 0 : c2 - c1;
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), rsv,
			    "i_reserved_data_blocks after fsync");
	expect_counters(fs, &base, c1, rsv, "after fsync");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 1),
			    iomap ? FOLIO_ABSENT :
			    one_folio ? FOLIO_CLEAN : FOLIO_DIRTY,
			    "folio past EOF after fsync (0 absent, 1 clean, 2 dirty)");

	ext4_kunit_evict(fs, f);
	expect_counters(fs, &base, c1, 0, "after eviction");
	f = ext4_kunit_open(fs, "short");
	expect_file(fs, f, want, PAGE_SIZE, "after eviction");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			   concat(test, repeat(test, 'W', bpp),
				  repeat(test, '.', bpp)));

	ext4_kunit_remount(fs);
	expect_counters(fs, &base, c1, 0, "after remount");
	f = ext4_kunit_open(fs, "short");
	expect_file(fs, f, want, PAGE_SIZE, "after remount");
}

/*
 * A short write over a range that earlier writes left delayed and dirty
 * must keep it: the delayed blocks of the second page hold the data of the
 * first write, which no one has written back yet.  The source buffer has
 * pages 0 and 2 mapped and page 1 not: the write stops at page 1, having
 * written page 0.
 *
 * On the iomap path the write maps the hole of page 0 as a new delayed
 * range and page 1 as the existing one (not new), so nothing may be
 * punched; page 2 is never mapped.  On the buffer_head path write_end finds
 * the second folio uptodate and its buffers not new, and leaves them.
 */
static void short_write_over_delayed_range(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize, bpp = PAGE_SIZE / bs;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "delayed");
	unsigned int c2 = clusters(test, 0, 2 * PAGE_SIZE);
	const char __user *ubuf;
	u8 *want = alloc_buf(test, 2 * PAGE_SIZE);
	struct counters base = read_counters(fs);
	ssize_t ret;

	ext4_kunit_fill(want + PAGE_SIZE, 1, PAGE_SIZE, PAGE_SIZE);
	ext4_kunit_write(fs, f, PAGE_SIZE, want + PAGE_SIZE, PAGE_SIZE);
	ubuf = user_buffer(test, 3, BIT(1), 2, 0);
	ext4_kunit_fill(want, 2, 0, PAGE_SIZE);

	ret = write_user(f, ubuf, 3 * PAGE_SIZE, 0);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)PAGE_SIZE,
			    "write of 3 pages from a buffer missing page 1");
	expect_file(fs, f, want, 2 * PAGE_SIZE, "after the short write");
	expect_status_map(fs, f, 3 * bpp,
			  concat(test, repeat(test, 'D', 2 * bpp),
				 repeat(test, '?', bpp)),
			  "after the short write");
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), c2, "i_reserved_data_blocks");
	expect_counters(fs, &base, 0, c2, "after the short write");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 1), FOLIO_DIRTY,
			    "folio of the earlier write (2 dirty)");

	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 3 * bpp),
			   concat(test, repeat(test, 'W', 2 * bpp),
				  repeat(test, '.', bpp)));
	KUNIT_EXPECT_EQ(test, reserved(f), 0U);
	KUNIT_EXPECT_EQ(test, disksize(f), 2 * (loff_t)PAGE_SIZE);
	expect_counters(fs, &base, c2, 0, "after fsync");
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, want, 2 * PAGE_SIZE, "after drop_cache");
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "delayed");
	expect_file(fs, f, want, 2 * PAGE_SIZE, "after remount");
}

/*
 * A short delayed allocation write over a hole that the page cache already
 * holds.  Page 1 of a sparse file of three pages is read first (a clean
 * folio of zeros, of one page: readahead is off), then a write of the
 * three pages from a buffer whose page 1 is not mapped copies page 0 and
 * stops at page 1.
 *
 * iomap path: ext4_da_map_blocks() reserved the three pages as one new
 * delayed range.  The copy into page 1's folio gets nothing, but the folio
 * is uptodate, so iomap_write_end() takes the empty copy and marks the
 * folio dirty.  Releasing the rest of the range then finds that folio in
 * the page cache (iomap_write_delalloc_scan()) and keeps the delayed
 * blocks under what it holds dirty (iomap_write_delalloc_punch()): the
 * whole folio when it is one block; when it tracks its blocks one by one,
 * none, as no block of it is dirty.  Page 2 has no folio and loses its
 * reservation.
 *
 * buffer_head path: ext4_da_write_begin() maps page 1's blocks delayed,
 * and as the folio is uptodate marks them dirty at once, whatever the
 * block size; the write stops there and never maps page 2.
 *
 * Writeback writes zeros where page 1 stayed delayed, cleans its folio
 * either way, and leaves nothing reserved.
 */
static void short_write_over_cached_hole(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize, bpp = PAGE_SIZE / bs;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "cached");
	bool keep = !on_iomap(test) || bs == PAGE_SIZE;
	u8 *want = alloc_buf(test, 3 * PAGE_SIZE);
	u8 *page = alloc_buf(test, PAGE_SIZE);
	const char __user *ubuf;
	struct counters base;
	unsigned int rsv;
	char *page1;
	ssize_t ret;

	if (bs > PAGE_SIZE)
		kunit_skip(test, "short write of a page inside a %u-byte block: not modelled",
			   bs);
	ubuf = user_buffer(test, 3, BIT(1), 4, 0);
	ext4_kunit_fill(want, 4, 0, PAGE_SIZE);
	ext4_kunit_truncate(fs, f, 3 * PAGE_SIZE);
	f->f_ra.ra_pages = 0;
	KUNIT_ASSERT_EQ(test, ext4_kunit_read(fs, f, PAGE_SIZE, page, PAGE_SIZE),
			PAGE_SIZE);
	KUNIT_ASSERT_NULL_MSG(test, memchr_inv(page, 0, PAGE_SIZE),
			      "page 1 of the sparse file does not read as zeros");
	KUNIT_ASSERT_EQ(test, folio_state(f, 1), FOLIO_CLEAN);
	KUNIT_ASSERT_EQ(test, ext4_kunit_folio_size_at(f, PAGE_SIZE), PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, folio_state(f, 0), FOLIO_ABSENT);
	KUNIT_ASSERT_EQ(test, folio_state(f, 2), FOLIO_ABSENT);
	base = read_counters(fs);

	ret = write_user(f, ubuf, 3 * PAGE_SIZE, 0);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)PAGE_SIZE,
			    "write of 3 pages from a buffer missing page 1");
	page1 = repeat(test, keep ? 'D' : '?', bpp);
	expect_status_map(fs, f, 3 * bpp,
			  concat(test, concat(test, repeat(test, 'D', bpp), page1),
				 repeat(test, '?', bpp)),
			  "after the short write");
	rsv = clusters(test, 0, (keep ? 2 : 1) * PAGE_SIZE);
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), rsv, "i_reserved_data_blocks");
	expect_counters(fs, &base, 0, rsv, "after the short write");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 1), FOLIO_DIRTY,
			    "folio of page 1 after the empty copy (2 dirty)");
	expect_file(fs, f, want, 3 * PAGE_SIZE, "after the short write");

	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 3 * bpp),
			   concat(test, concat(test, repeat(test, 'W', bpp),
					       repeat(test, keep ? 'W' : '.', bpp)),
				  repeat(test, '.', bpp)));
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), 0U, "i_reserved_data_blocks after fsync");
	expect_counters(fs, &base, rsv, 0, "after fsync");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 1), FOLIO_CLEAN,
			    "folio of page 1 after fsync (1 clean)");
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, want, 3 * PAGE_SIZE, "after drop_cache");
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "cached");
	expect_file(fs, f, want, 3 * PAGE_SIZE, "after remount");
}

/*
 * The same short write as short_delalloc_write(), without delayed
 * allocation.  The iomap path allocated the whole range as unwritten
 * extents before copying (ext4_iomap_map_or_alloc()), and keeps them: the
 * blocks past EOF read as zeros, and i_disksize waits for writeback.  The
 * buffer_head path allocated written blocks for the second folio in
 * ext4_write_begin(), and ext4_write_end() truncates them again
 * (ext4_truncate_failed_write()), since they are past EOF.  Nothing is
 * reserved on either path.
 */
static void short_nodelalloc_write(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize, bpp = PAGE_SIZE / bs;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test),
						    "nodelalloc");
	struct file *f = ext4_kunit_create(fs, "short");
	unsigned int c1 = clusters(test, 0, PAGE_SIZE);
	unsigned int c2 = clusters(test, 0, 2 * PAGE_SIZE);
	bool iomap = on_iomap(test);
	const char __user *ubuf;
	u8 *want = alloc_buf(test, 2 * PAGE_SIZE);
	struct counters base;
	char *tail;
	ssize_t ret;

	ubuf = user_buffer(test, 2, BIT(1), 3, 0);
	ext4_kunit_fill(want, 3, 0, PAGE_SIZE);
	base = read_counters(fs);

	ret = write_user(f, ubuf, 2 * PAGE_SIZE, 0);
	KUNIT_ASSERT_EQ(test, ret, (ssize_t)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, isize(f), (loff_t)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, disksize(f), iomap ? 0 : (loff_t)PAGE_SIZE);
	tail = repeat(test, iomap ? 'U' : '.', bpp);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			   concat(test, repeat(test, iomap ? 'U' : 'W', bpp),
				  tail));
	KUNIT_EXPECT_EQ(test, reserved(f), 0U);
	expect_counters(fs, &base, iomap ? c2 : c1, 0, "after the short write");
	expect_file(fs, f, want, PAGE_SIZE, "after the short write");

	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_EQ(test, disksize(f), (loff_t)PAGE_SIZE);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			   concat(test, repeat(test, 'W', bpp), tail));

	ext4_kunit_remount(fs);
	expect_counters(fs, &base, iomap ? c2 : c1, 0, "after remount");
	f = ext4_kunit_open(fs, "short");
	expect_file(fs, f, want, PAGE_SIZE, "after remount");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			   concat(test, repeat(test, 'W', bpp), tail));
	/* What lies past the old EOF reads as zeros once inside it. */
	ext4_kunit_truncate(fs, f, 2 * PAGE_SIZE);
	expect_file(fs, f, want, 2 * PAGE_SIZE, "after truncate up");
}

/*
 * A delayed allocation write whose source is not mapped at all copies
 * nothing and fails with -EFAULT; the file stays empty and, once the inode
 * is evicted, nothing stays reserved or allocated.
 *
 * iomap path: the copy into the first folio gets nothing,
 * iomap_write_failed() drops that folio (it is past EOF), the source
 * cannot be faulted in, and ext4_iomap_delalloc_end() punches the whole
 * reservation: no folio and nothing reserved at once.
 *
 * buffer_head path: as the second page of short_delalloc_write(), the
 * folio stays dirty and zeroed past EOF over the delayed blocks that
 * ext4_da_write_begin() reserved.  Unlike that page, it is the only folio:
 * writeback finds no block of it below EOF (i_size is 0) and submits it
 * with nothing to write, which cleans it (ext4_bio_write_folio()), while
 * its blocks stay delayed and reserved until the inode is evicted.
 */
static void efault_delalloc_write(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "efault");
	unsigned int c1 = clusters(test, 0, PAGE_SIZE);
	bool iomap = on_iomap(test);
	const char __user *ubuf;
	struct counters base;
	unsigned int rsv;
	ssize_t ret;

	ubuf = user_buffer(test, 1, BIT(0), 1, 0);
	base = read_counters(fs);

	ret = write_user(f, ubuf, PAGE_SIZE, 0);
	KUNIT_EXPECT_EQ_MSG(test, ret, (ssize_t)-EFAULT,
			    "write of a page from a buffer that is not mapped");
	expect_file(fs, f, NULL, 0, "after the failed write");
	KUNIT_EXPECT_EQ(test, disksize(f), 0);
	rsv = iomap ? 0 : c1;
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), rsv, "i_reserved_data_blocks");
	expect_counters(fs, &base, 0, rsv, "after the failed write");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 0),
			    iomap ? FOLIO_ABSENT : FOLIO_DIRTY,
			    "folio of the failed write (0 absent, 2 dirty)");

	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_EQ(test, disksize(f), 0);
	expect_counters(fs, &base, 0, rsv, "after fsync");
	KUNIT_EXPECT_EQ_MSG(test, folio_state(f, 0),
			    iomap ? FOLIO_ABSENT : FOLIO_CLEAN,
			    "folio of the failed write after fsync (0 absent, 1 clean)");

	ext4_kunit_evict(fs, f);
	expect_counters(fs, &base, 0, 0, "after eviction");
	f = ext4_kunit_open(fs, "efault");
	expect_file(fs, f, NULL, 0, "after eviction");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 1), ".");
}

/*
 * A source page for a write from a special mapping with its own fault
 * handler: the only way to run code in the thread that writes while it is
 * inside the write.  The copy into the page cache finds the page not
 * mapped, and the write faults it in with no folio locked, then copies
 * again.  At the first fault the handler notes whether the target's first
 * page is in the page cache, and for @stale writes the target back and
 * drops its page cache, as writeback and reclaim could do at that moment.
 */
struct fault_source {
	struct vm_special_mapping spec;
	struct page *page;
	struct address_space *target;
	bool stale, cached;
	int faults, wb_err, inval_err;
};

static vm_fault_t fault_source_fault(const struct vm_special_mapping *sm,
				     struct vm_area_struct *vma,
				     struct vm_fault *vmf)
{
	struct fault_source *src = container_of(sm, struct fault_source, spec);

	if (src->faults++ == 0) {
		src->cached = filemap_range_has_page(src->target, 0,
						     PAGE_SIZE - 1);
		if (src->stale) {
			src->wb_err = filemap_write_and_wait(src->target);
			src->inval_err = invalidate_inode_pages2(src->target);
		}
	}
	get_page(src->page);
	vmf->page = src->page;
	return 0;
}

KUNIT_DEFINE_ACTION_WRAPPER(put_page_action, put_page, struct page *);

/* A source for writes to @file whose page holds @seed's bytes from @pos. */
static struct fault_source *fault_source(struct kunit *test, struct file *file,
					 u8 seed, loff_t pos)
{
	struct fault_source *src = kunit_kzalloc(test, sizeof(*src), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, src);
	src->spec.name = "[ext4-kunit-source]";
	src->spec.fault = fault_source_fault;
	src->target = file->f_mapping;
	src->page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src->page);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_page_action,
							src->page), 0);
	ext4_kunit_fill(page_address(src->page), seed, pos, PAGE_SIZE);
	return src;
}

/*
 * Write @len bytes at @pos of @file from the start of @src's page, which
 * must all be written, the source faulting once.  The mapping must be gone
 * before the test can stop (see the top of the file): no assertion until
 * vm_munmap().
 */
static void write_from_source(struct kunit *test, struct fault_source *src,
			      struct file *file, size_t len, loff_t pos)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr;
	ssize_t ret = -EINVAL;

	KUNIT_ASSERT_EQ(test, kunit_attach_mm(), 0);
	mm = current->mm;
	mmap_write_lock(mm);
	addr = get_unmapped_area(NULL, 0, PAGE_SIZE, 0, 0);
	vma = IS_ERR_VALUE(addr) ? ERR_PTR(addr) :
	      _install_special_mapping(mm, addr, PAGE_SIZE,
				       VM_READ | VM_MAYREAD, &src->spec);
	mmap_write_unlock(mm);
	if (!IS_ERR(vma)) {
		ret = write_user(file, (const char __user *)addr, len, pos);
		vm_munmap(addr, PAGE_SIZE);
	}
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(vma), "special mapping: %pe", vma);
	KUNIT_EXPECT_EQ(test, ret, (ssize_t)len);
	KUNIT_EXPECT_EQ_MSG(test, src->faults, 1, "faults on the source page");
}

/*
 * A write whose mapping goes stale under it.  Block 0 is unwritten
 * (fallocate) with dirty data over it.  A write of 20 bytes into block 0
 * takes its source from a page that is not mapped yet; faulting it in, the
 * page's fault handler writes the file back (converting block 0 to written)
 * and drops its page cache.  The write must then read block 0 from disk
 * around its 20 bytes.
 *
 * On the iomap path, ->iomap_begin mapped block 0 as unwritten before the
 * fault, and the write goes on in that mapping once the source is in;
 * ext4_iomap_valid() sees the extent status sequence moved and makes iomap
 * map again.  Trusting the old mapping would take block 0 for one that
 * reads as zeros and zero it around the write.  The buffer_head path maps
 * under the folio lock each time and gets it right anyway.
 */
static void write_remaps_stale_mapping(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "stale");
	/* The source bytes for file offsets 10 to 29. */
	struct fault_source *src = fault_source(test, f, 2, 10);
	u8 *want = alloc_buf(test, 4 * bs);

	src->stale = true;
	ext4_kunit_fallocate(fs, f, 0, 0, 4 * bs);
	ext4_kunit_fill(want, 1, 0, bs);
	ext4_kunit_write(fs, f, 0, want, bs);
	ext4_kunit_fill(want + 10, 2, 10, 20);
	KUNIT_ASSERT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 4), "UUUU");

	write_from_source(test, src, f, 20, 10);
	KUNIT_EXPECT_EQ(test, src->wb_err, 0);
	KUNIT_EXPECT_EQ(test, src->inval_err, 0);
	/* The writeback in the fault handler converted block 0. */
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 4), "WUUU");
	expect_file(fs, f, want, 4 * bs, "after the write");
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 4), "WUUU");
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, want, 4 * bs, "after drop_cache");
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "stale");
	expect_file(fs, f, want, 4 * bs, "after remount");
}

/*
 * A write copies before it faults its source in.  The user's pages are
 * nearly always resident, and touching them before the copy costs every
 * write: generic_perform_write() copies first and faults the source in
 * only when the copy got nothing, and iomap_write_iter() does the same.
 * So when the source of a 20-byte write into a file whose page cache was
 * dropped faults, the write has already taken the folio it copies into,
 * reading its block, on both paths.
 */
static void write_copies_before_faulting_source(struct kunit *test)
{
	unsigned int bs = geo(test)->blocksize;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct file *f = ext4_kunit_create(fs, "copy");
	struct fault_source *src = fault_source(test, f, 2, 10);
	u8 *want = alloc_buf(test, 2 * bs);

	ext4_kunit_fill(want, 1, 0, 2 * bs);
	ext4_kunit_write(fs, f, 0, want, 2 * bs);
	ext4_kunit_fsync(fs, f);
	ext4_kunit_drop_cache(fs, f);
	ext4_kunit_fill(want + 10, 2, 10, 20);
	KUNIT_ASSERT_EQ(test, folio_state(f, 0), FOLIO_ABSENT);

	write_from_source(test, src, f, 20, 10);
	KUNIT_EXPECT_TRUE_MSG(test, src->cached,
			      "the file's first page was not in the page cache when the source faulted: the write faulted its source in before it copied");
	expect_file(fs, f, want, 2 * bs, "after the write");
	ext4_kunit_fsync(fs, f);
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, want, 2 * bs, "after drop_cache");
}

/*
 * Write @len bytes at 0 of @file from a read-only shared mapping of the
 * first @len bytes of @src; the bytes written, or an error.  The mapping
 * is made, used and unmapped with no assertion in between (see the top of
 * the file).
 */
static ssize_t write_from_file(struct kunit *test, struct file *src,
			       struct file *file, size_t len)
{
	unsigned long addr;
	ssize_t ret;

	addr = kunit_vm_mmap(test, src, 0, len, PROT_READ, MAP_SHARED, 0);
	if (!addr || IS_ERR_VALUE(addr))
		return addr ? (ssize_t)addr : -ENOMEM;
	ret = write_user(file, (const char __user *)addr, len, 0);
	vm_munmap(addr, len);
	return ret;
}

/*
 * A write whose source is not resident keeps its chunk.  The source is a
 * mapping of another file whose page cache was dropped, so the first copy
 * gets nothing: it may not fault with the target folio locked.  The write
 * then faults the source in and copies again.  iomap_write_iter() has
 * dropped the folio of the empty copy (iomap_write_failed(), past EOF) and
 * takes a new one of the chunk it then has: halving the chunk there, as it
 * does after a copy that got part of its bytes, would put every write from
 * memory not yet resident in folios of half its size.
 * generic_perform_write() halves its chunk, but finds the first folio still
 * in the page cache past EOF and copies into it.  So on both paths the
 * write ends in one folio of its size.
 *
 * The file's largest folio is capped at the write, which is twice its
 * smallest folio and at least 64 KiB, so that a halved chunk shows: with
 * the default largest folio (2 MiB on x86_64) the chunk would halve to 1
 * MiB, still above the write.  Without large folios (no THP) every chunk
 * is a page.
 */
static void write_from_absent_source_keeps_chunk(struct kunit *test)
{
	struct ext4_kunit_fs *fs;
	struct file *src, *f;
	size_t len;
	u8 *want;
	ssize_t ret;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		kunit_skip(test, "no large folios without THP: every chunk is a page");
	fs = ext4_kunit_mount(test, cfg(test), NULL);
	src = ext4_kunit_create(fs, "source");
	f = ext4_kunit_create(fs, "chunk");
	len = max_t(size_t, SZ_64K, 2 * ext4_kunit_min_folio_size(f));
	mapping_set_folio_order_range(f->f_mapping,
				      mapping_min_folio_order(f->f_mapping),
				      ilog2(len >> PAGE_SHIFT));
	KUNIT_ASSERT_EQ(test, ext4_kunit_max_folio_size(f), len);
	want = alloc_buf(test, len);
	ext4_kunit_fill(want, 3, 0, len);
	ext4_kunit_write(fs, src, 0, want, len);
	ext4_kunit_fsync(fs, src);
	ext4_kunit_drop_cache(fs, src);
	KUNIT_ASSERT_EQ(test, folio_state(src, 0), FOLIO_ABSENT);

	ret = write_from_file(test, src, f, len);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)len,
			    "write of %zu bytes from a mapping of a file", len);
	KUNIT_EXPECT_EQ_MSG(test, ext4_kunit_folio_size_at(f, 0), len,
			    "size of the folio at byte 0 after a %zu-byte write whose source faulted",
			    len);
	expect_file(fs, f, want, len, "after the write");
	ext4_kunit_fsync(fs, f);
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, want, len, "after drop_cache");
}

/*
 * Write faults.
 */

/*
 * Store @len bytes of @buf at @pos of @file through a shared writable
 * mapping of its first @map_len bytes, as a process does: the first store
 * to the page write-faults, and ->page_mkwrite runs.  The mapping pins the
 * file: it is gone before anything here can fail the test.
 */
static void store_through_mapping(struct ext4_kunit_fs *fs, struct file *file,
				  size_t map_len, loff_t pos, const u8 *buf,
				  size_t len)
{
	struct kunit *test = fs->test;
	unsigned long addr, left = len;
	bool mapped;

	addr = kunit_vm_mmap(test, file, 0, map_len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, 0);
	mapped = addr && !IS_ERR_VALUE(addr);
	if (mapped) {
		left = copy_to_user((void __user *)(addr + pos), buf, len);
		vm_munmap(addr, map_len);
	}
	KUNIT_ASSERT_TRUE_MSG(test, mapped, "kunit_vm_mmap() of the file: %ld",
			      (long)addr);
	KUNIT_ASSERT_EQ_MSG(test, left, 0UL,
			    "store of %zu bytes at %lld through the mapping",
			    len, pos);
}

/*
 * A file of two folios of holes, and a store into the second folio.  A
 * folio here is the smallest of the file: a page, or a block where blocks
 * are larger than a page.
 */
struct fault_setup {
	struct ext4_kunit_fs *fs;
	struct file *file;
	size_t unit;			/* the smallest folio */
	unsigned int bpp;		/* blocks in it */
	u8 *want;
	struct counters base;
};

static void fault_into_hole(struct kunit *test, struct fault_setup *s,
			    const char *opts)
{
	size_t unit;
	loff_t pos;

	s->fs = ext4_kunit_mount(test, cfg(test), opts);
	s->file = ext4_kunit_create(s->fs, "fault");
	s->unit = ext4_kunit_min_folio_size(s->file);
	unit = s->unit;
	s->bpp = unit / geo(test)->blocksize;
	pos = unit + unit / 2 + 3;
	s->want = alloc_buf(test, 2 * unit);
	ext4_kunit_truncate(s->fs, s->file, 2 * unit);
	s->base = read_counters(s->fs);

	ext4_kunit_fill(s->want + pos, 4, pos, 10);
	store_through_mapping(s->fs, s->file, 2 * unit, pos, s->want + pos, 10);

	KUNIT_EXPECT_EQ(test, isize(s->file), 2 * (loff_t)unit);
	KUNIT_EXPECT_EQ_MSG(test, folio_state(s->file, unit >> PAGE_SHIFT),
			    FOLIO_DIRTY, "faulted folio (2 dirty)");
	KUNIT_EXPECT_NE_MSG(test, folio_state(s->file, 0), FOLIO_DIRTY,
			    "folio not written to is dirty");
	expect_file(s->fs, s->file, s->want, 2 * unit, "after the fault");
}

/* After fsync the whole faulted folio is written, on disk, on both paths. */
static void fault_written_back(struct kunit *test, struct fault_setup *s)
{
	unsigned int bpp = s->bpp;
	size_t unit = s->unit;
	char *map = concat(test, repeat(test, '.', bpp),
			   repeat(test, 'W', bpp));

	ext4_kunit_fsync(s->fs, s->file);
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(s->fs, s->file, 0,
						       2 * bpp), map);
	KUNIT_EXPECT_EQ(test, reserved(s->file), 0U);
	KUNIT_EXPECT_EQ(test, disksize(s->file), 2 * (loff_t)unit);
	expect_counters(s->fs, &s->base, clusters(test, unit, 2 * unit), 0,
			"after fsync");
	ext4_kunit_drop_cache(s->fs, s->file);
	expect_file(s->fs, s->file, s->want, 2 * unit, "after drop_cache");
	ext4_kunit_remount(s->fs);
	s->file = ext4_kunit_open(s->fs, "fault");
	expect_file(s->fs, s->file, s->want, 2 * unit, "after remount");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(s->fs, s->file, 0,
						       2 * bpp), map);
}

/*
 * With delayed allocation a write fault on a hole reserves the blocks of the
 * folio inside EOF (iomap_page_mkwrite() maps the folio, block_page_mkwrite()
 * gets a block for each buffer): the whole second folio is delayed, its
 * clusters are reserved, and the folio is dirty.
 */
static void fault_delalloc_hole(struct kunit *test)
{
	struct fault_setup s;
	unsigned int rsv;

	fault_into_hole(test, &s, NULL);
	rsv = clusters(test, s.unit, 2 * s.unit);
	expect_status_map(s.fs, s.file, 2 * s.bpp,
			  concat(test, repeat(test, '?', s.bpp),
				 repeat(test, 'D', s.bpp)), "after the fault");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(s.fs, s.file, 0, 2 * s.bpp),
			   repeat(test, '.', 2 * s.bpp));
	KUNIT_EXPECT_EQ_MSG(test, reserved(s.file), rsv, "i_reserved_data_blocks");
	expect_counters(s.fs, &s.base, 0, rsv, "after the fault");
	fault_written_back(test, &s);
}

/*
 * Without delayed allocation a write fault on a hole allocates the blocks of
 * the folio at once: unwritten on the iomap path (ext4_iomap_map_or_alloc()),
 * written on the buffer_head path (ext4_get_block(): no dioread_nolock
 * without delalloc).  Nothing is reserved.
 */
static void fault_nodelalloc_hole(struct kunit *test)
{
	char state = on_iomap(test) ? 'U' : 'W';
	struct fault_setup s;

	fault_into_hole(test, &s, "nodelalloc");
	expect_status_map(s.fs, s.file, 2 * s.bpp,
			  concat(test, repeat(test, '?', s.bpp),
				 repeat(test, state, s.bpp)), "after the fault");
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(s.fs, s.file, 0, 2 * s.bpp),
			   concat(test, repeat(test, '.', s.bpp),
				  repeat(test, state, s.bpp)));
	KUNIT_EXPECT_EQ(test, reserved(s.file), 0U);
	expect_counters(s.fs, &s.base, clusters(test, s.unit, 2 * s.unit),
			0, "after the fault");
	fault_written_back(test, &s);
}

/*
 * A store through the mapping into the EOF folio, from inside EOF to past
 * it, does not move EOF: only the bytes inside EOF become file data, only
 * the blocks inside EOF are delayed (the fault maps the folio up to EOF on
 * both paths), and extending the file later shows zeros past the old EOF,
 * in the page cache and on disk.  With @sync_first, writeback has zeroed
 * the folio past EOF before the extension (ext4_bio_write_folio(),
 * iomap_writeback_handle_eof()); without it, the extension zeroes it
 * (pagecache_isize_extended() zeroes a dirty EOF folio, and the zeroing of
 * the EOF block covers the folio when the block is the folio).
 */
static void fault_past_eof_then_extend(struct ext4_kunit_fs *fs,
				       const char *name, bool sync_first)
{
	struct kunit *test = fs->test;
	struct file *f = ext4_kunit_create(fs, name);
	/* The smallest folio: a page, or the block where blocks are larger. */
	size_t unit = ext4_kunit_min_folio_size(f);
	unsigned int bs = geo(test)->blocksize, bpp = unit / bs;
	loff_t size = unit + 100, pos = unit + 50;
	/* Only the EOF page can be stored to: past it the fault is SIGBUS. */
	size_t len = PAGE_SIZE / 2;
	unsigned int in_eof = DIV_ROUND_UP(100, bs);
	u8 *want = alloc_buf(test, 2 * unit);
	u8 *store = alloc_buf(test, len);
	bool tainted;
	char *map;

	ext4_kunit_truncate(fs, f, size);
	ext4_kunit_fill(store, 5, pos, len);
	store_through_mapping(fs, f, 2 * unit, pos, store, len);
	memcpy(want + pos, store, size - pos);

	KUNIT_EXPECT_EQ_MSG(test, disksize(f), size, "%s", name);
	expect_file(fs, f, want, size, tprintf(test, "%s: after the fault", name));
	map = concat(test, repeat(test, '?', bpp),
		     concat(test, repeat(test, 'D', in_eof),
			    repeat(test, '?', bpp - in_eof)));
	expect_status_map(fs, f, 2 * bpp, map,
			  tprintf(test, "%s: after the fault", name));
	KUNIT_EXPECT_EQ_MSG(test, reserved(f), clusters(test, unit, size),
			    "%s", name);

	map = concat(test, repeat(test, '.', bpp),
		     concat(test, repeat(test, 'W', in_eof),
			    repeat(test, '.', bpp - in_eof)));
	if (sync_first) {
		ext4_kunit_fsync(fs, f);
		KUNIT_EXPECT_EQ_MSG(test, isize(f), size, "%s", name);
		KUNIT_EXPECT_EQ_MSG(test, disksize(f), size, "%s", name);
		KUNIT_EXPECT_STREQ_MSG(test,
				       ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
				       map, "%s: after fsync", name);
	}
	ext4_kunit_truncate(fs, f, 2 * unit);
	expect_file(fs, f, want, 2 * unit,
		    tprintf(test, "%s: after truncate up", name));
	/*
	 * Without the fsync first, the blocks past the old EOF are dirty
	 * holes on the iomap path (the fault dirtied the whole folio) and
	 * writeback must skip them quietly.  A warning taints the kernel;
	 * once something has, this cannot be told apart any more.
	 */
	tainted = test_taint(TAINT_WARN);
	ext4_kunit_fsync(fs, f);
	KUNIT_EXPECT_FALSE_MSG(test, !tainted && test_taint(TAINT_WARN),
			       "%s: writeback of the extended file warned", name);
	KUNIT_EXPECT_STREQ_MSG(test, ext4_kunit_extent_map(fs, f, 0, 2 * bpp),
			       map, "%s: after truncate up and fsync", name);
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, want, 2 * unit,
		    tprintf(test, "%s: after drop_cache", name));
}

static void fault_past_eof(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);

	fault_past_eof_then_extend(fs, "synced", true);
	fault_past_eof_then_extend(fs, "dirty", false);
}

static struct kunit_case ext4_buffered_write_cases[] = {
	KUNIT_CASE_PARAM(write_delalloc, config_gen_params),
	KUNIT_CASE_PARAM(write_nodelalloc, config_gen_params),
	KUNIT_CASE_PARAM(short_delalloc_write, config_gen_params),
	KUNIT_CASE_PARAM(short_write_over_delayed_range, config_gen_params),
	KUNIT_CASE_PARAM(short_write_over_cached_hole, config_gen_params),
	KUNIT_CASE_PARAM(short_nodelalloc_write, config_gen_params),
	KUNIT_CASE_PARAM(efault_delalloc_write, config_gen_params),
	KUNIT_CASE_PARAM(write_remaps_stale_mapping, config_gen_params),
	KUNIT_CASE_PARAM(write_copies_before_faulting_source, config_gen_params),
	KUNIT_CASE_PARAM(write_from_absent_source_keeps_chunk, config_gen_params),
	KUNIT_CASE_PARAM(fault_delalloc_hole, config_gen_params),
	KUNIT_CASE_PARAM(fault_nodelalloc_hole, config_gen_params),
	KUNIT_CASE_PARAM(fault_past_eof, config_gen_params),
	{}
};

static struct kunit_suite ext4_buffered_write_suite = {
	.name = "ext4_buffered_write",
	.test_cases = ext4_buffered_write_cases,
};

kunit_test_suites(&ext4_buffered_write_suite);

MODULE_DESCRIPTION("KUnit tests of ext4 buffered writes and write faults");
MODULE_LICENSE("GPL");
