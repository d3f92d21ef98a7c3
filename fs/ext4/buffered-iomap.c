// SPDX-License-Identifier: GPL-2.0
/*
 * Buffered I/O of regular files through iomap.
 *
 * Inodes with EXT4_STATE_BUFFERED_IOMAP keep no buffer_heads on their page
 * cache folios; iomap tracks which blocks of a folio are uptodate and dirty,
 * and asks ext4 for block mappings through the iomap_ops below.
 *
 * Lock ordering differs from the buffer_head path (see the comment at the top
 * of super.c): a folio lock is taken before a journal handle is started,
 * never while one is running.
 */
#include <kunit/static_stub.h>
#include <linux/bio.h>
#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>

#include "ext4.h"
#include "ext4_jbd2.h"

#include <trace/events/ext4.h>

/*
 * Set @map to the blocks that hold the bytes [@offset, @offset + @length),
 * without going past the largest logical block ext4 can map.
 */
static int ext4_iomap_map_range(struct inode *inode, loff_t offset,
				loff_t length, struct ext4_map_blocks *map)
{
	unsigned int blkbits = inode->i_blkbits;
	u64 last = (offset + length - 1) >> blkbits;

	if (WARN_ON_ONCE(!ext4_inode_buffered_iomap(inode)))
		return -EINVAL;
	if ((offset >> blkbits) > EXT4_MAX_LOGICAL_BLOCK)
		return -EINVAL;
	map->m_lblk = offset >> blkbits;
	map->m_len = min_t(u64, last, EXT4_MAX_LOGICAL_BLOCK) - map->m_lblk + 1;
	return 0;
}

/*
 * Fill @iomap from @map.  The validity cookie is the extent status tree
 * sequence the mapping was looked up at; ext4_iomap_valid() compares it
 * with the current one before iomap trusts a cached mapping.
 */
static void ext4_iomap_from_map(struct inode *inode, struct iomap *iomap,
				struct ext4_map_blocks *map, loff_t offset,
				loff_t length, unsigned int flags)
{
	ext4_set_iomap(inode, iomap, map, offset, length, flags);
	iomap->validity_cookie = map->m_seq;
}

static int ext4_iomap_read_begin(struct inode *inode, loff_t offset,
				 loff_t length, unsigned int flags,
				 struct iomap *iomap, struct iomap *srcmap)
{
	struct ext4_map_blocks map;
	int ret;

	if (unlikely(ext4_forced_shutdown(inode->i_sb)))
		return -EIO;
	/* Inodes with inline data are never put on the iomap path. */
	if (WARN_ON_ONCE(ext4_has_inline_data(inode)))
		return -ERANGE;

	ret = ext4_iomap_map_range(inode, offset, length, &map);
	if (ret)
		return ret;
	ret = ext4_map_blocks(NULL, inode, &map, 0);
	if (ret < 0)
		return ret;
	trace_ext4_iomap_read_begin(inode, offset, length, &map);
	ext4_iomap_from_map(inode, iomap, &map, offset, length, flags);
	return 0;
}

static DEFINE_IOMAP_ITER_NEXT(ext4_iomap_read_next, ext4_iomap_read_begin);

static const struct iomap_ops ext4_iomap_read_ops = {
	.iomap_next	= ext4_iomap_read_next,
};

int ext4_iomap_read_folio(struct file *file, struct folio *folio)
{
	iomap_bio_read_folio(folio, &ext4_iomap_read_ops);
	return 0;
}

void ext4_iomap_readahead(struct readahead_control *rac)
{
	iomap_bio_readahead(rac, &ext4_iomap_read_ops);
}

/*
 * A mapping cached by iomap across a folio copy, or by writeback across
 * folios, is still good if the extent status tree has not changed since it
 * was looked up.  Writeback does not take i_rwsem: it may have converted an
 * unwritten extent under a write's mapping in the meantime.
 */
static bool ext4_iomap_valid(struct inode *inode, const struct iomap *iomap)
{
	return iomap->validity_cookie == READ_ONCE(EXT4_I(inode)->i_es_seq);
}

static const struct iomap_write_ops ext4_iomap_write_ops = {
	.iomap_valid	= ext4_iomap_valid,
};

/*
 * Map for a write without delayed allocation: blocks that exist (written,
 * unwritten or delayed) are used as they are, and a hole gets an unwritten
 * extent at once, so that its blocks read as zeros until writeback has put
 * the data there.  Only the allocation needs a handle, and it is stopped
 * again before iomap locks the folio.
 */
static int ext4_iomap_map_or_alloc(struct inode *inode,
				   struct ext4_map_blocks *map)
{
	int ret;

	ret = ext4_map_blocks(NULL, inode, map, 0);
	if (ret < 0)
		return ret;
	if (map->m_flags & (EXT4_MAP_MAPPED | EXT4_MAP_UNWRITTEN |
			    EXT4_MAP_DELAYED))
		return 0;
	ret = ext4_map_blocks(NULL, inode, map,
			      EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT |
			      EXT4_GET_BLOCKS_START_HANDLE);
	return ret < 0 ? ret : 0;
}

/*
 * ->iomap_begin of buffered writes.  Called with i_rwsem held for write, and
 * no folio locked.
 */
static int ext4_iomap_write_begin(struct inode *inode, loff_t offset,
				  loff_t length, unsigned int flags,
				  struct iomap *iomap, bool delalloc)
{
	loff_t first = i_blocksize(inode) - (offset & (i_blocksize(inode) - 1));
	struct ext4_map_blocks map;
	int ret, retries = 0;

	ret = ext4_emergency_state(inode->i_sb);
	if (unlikely(ret))
		return ret;
	/* ext4_enable_buffered_iomap() lets only these inodes in. */
	if (WARN_ON_ONCE(ext4_has_inline_data(inode)))
		return -ERANGE;
	if (WARN_ON_ONCE(!ext4_test_inode_flag(inode, EXT4_INODE_EXTENTS) ||
			 !(flags & IOMAP_WRITE)))
		return -EINVAL;

	for (;;) {
		ret = ext4_iomap_map_range(inode, offset, length, &map);
		if (ret)
			return ret;
		if (delalloc)
			ret = ext4_da_map_blocks(inode, &map);
		else
			ret = ext4_iomap_map_or_alloc(inode, &map);
		if (ret != -ENOSPC)
			break;
		if (ext4_should_retry_alloc(inode->i_sb, &retries))
			continue;
		/*
		 * The range does not fit, but its first block may: a delayed
		 * range is reserved whole or not at all.  Map that block
		 * alone, so that the write stops short where the filesystem
		 * is full, as it does on the buffer_head path, instead of
		 * failing while clusters are still free.
		 */
		if (length <= first)
			break;
		length = first;
		retries = 0;
	}
	if (ret < 0)
		return ret;

	trace_ext4_iomap_write_begin(inode, offset, length, &map);
	ext4_iomap_from_map(inode, iomap, &map, offset, length, flags);
	return 0;
}

static int ext4_iomap_delalloc_begin(struct inode *inode, loff_t offset,
				     loff_t length, unsigned int flags,
				     struct iomap *iomap, struct iomap *srcmap)
{
	return ext4_iomap_write_begin(inode, offset, length, flags, iomap,
				      true);
}

static int ext4_iomap_alloc_begin(struct inode *inode, loff_t offset,
				  loff_t length, unsigned int flags,
				  struct iomap *iomap, struct iomap *srcmap)
{
	return ext4_iomap_write_begin(inode, offset, length, flags, iomap,
				      false);
}

/*
 * Drop delayed blocks that a write reserved and left clean.  Called with
 * invalidate_lock held for write by iomap_write_delalloc_release(), which
 * passes only ranges that hold no dirty data.
 */
static void ext4_iomap_punch_delalloc(struct inode *inode, loff_t offset,
				      loff_t length, struct iomap *iomap)
{
	down_write(&EXT4_I(inode)->i_data_sem);
	ext4_es_remove_extent(inode, offset >> inode->i_blkbits,
			      EXT4_MAX_BLOCKS(length, offset, inode->i_blkbits));
	up_write(&EXT4_I(inode)->i_data_sem);
}

/*
 * ->iomap_end of delayed allocation writes.  A write that copied less than
 * it mapped (the user buffer faulted, or a signal) leaves the delayed blocks
 * past its last byte under clean folios: nothing would ever write them back
 * and release their reservation.  Give back those that this write reserved
 * (IOMAP_F_NEW, from EXT4_MAP_NEW); older delayed blocks hold other data.
 *
 * Lock order: i_rwsem (w) -> invalidate_lock (w) -> folio lock ->
 * i_data_sem (w).
 */
static int ext4_iomap_delalloc_end(struct inode *inode, loff_t offset,
				   loff_t length, ssize_t written,
				   unsigned int flags, struct iomap *iomap)
{
	loff_t start, end;

	if (iomap->type != IOMAP_DELALLOC || !(iomap->flags & IOMAP_F_NEW))
		return 0;
	/*
	 * A write fault dirties the whole mapped part of its folio, and holds
	 * invalidate_lock shared, which the release below takes for write.
	 */
	if (flags & IOMAP_FAULT)
		return 0;

	start = iomap_last_written_block(inode, offset, written);
	end = round_up(offset + length, i_blocksize(inode));
	if (start >= end)
		return 0;

	filemap_invalidate_lock(inode->i_mapping);
	iomap_write_delalloc_release(inode, start, end, flags, iomap,
				     ext4_iomap_punch_delalloc);
	filemap_invalidate_unlock(inode->i_mapping);
	return 0;
}

static DEFINE_IOMAP_ITER_NEXT_END(ext4_iomap_delalloc_next,
				  ext4_iomap_delalloc_begin,
				  ext4_iomap_delalloc_end);

static const struct iomap_ops ext4_iomap_delalloc_ops = {
	.iomap_next	= ext4_iomap_delalloc_next,
};

/* Blocks allocated at once are unwritten: a short write leaves nothing. */
static DEFINE_IOMAP_ITER_NEXT(ext4_iomap_alloc_next, ext4_iomap_alloc_begin);

static const struct iomap_ops ext4_iomap_alloc_ops = {
	.iomap_next	= ext4_iomap_alloc_next,
};

/*
 * ->iomap_begin of partial block zeroing: look up, never allocate.  iomap
 * zeroes written and delayed blocks in the page cache, and skips holes and
 * clean unwritten blocks, which read as zeros already.  An unwritten block
 * with dirty page cache is written back first and looked up again, so that
 * the data there is zeroed around, not dropped as if the block read as zeros.
 */
static int ext4_iomap_zero_begin(struct inode *inode, loff_t offset,
				 loff_t length, unsigned int flags,
				 struct iomap *iomap, struct iomap *srcmap)
{
	struct ext4_map_blocks map;
	int ret;

	ret = ext4_emergency_state(inode->i_sb);
	if (unlikely(ret))
		return ret;
	if (WARN_ON_ONCE(!(flags & IOMAP_ZERO)))
		return -EINVAL;

	ret = ext4_iomap_map_range(inode, offset, length, &map);
	if (ret)
		return ret;
	ret = ext4_map_blocks(NULL, inode, &map, 0);
	if (ret < 0)
		return ret;
	trace_ext4_iomap_zero_begin(inode, offset, length, &map);
	ext4_iomap_from_map(inode, iomap, &map, offset, length, flags);
	return 0;
}

/*
 * Map for zeroing, and tell the caller (through the iter's private data,
 * when it asks) whether a written block is being zeroed.  Zeroes in a
 * delayed block, or in an unwritten one, can never let stale data be read:
 * such a block is not on disk, or reads as zeros from there until writeback
 * has put the page cache there.  Only for a written block must the zeroes
 * reach the disk before the file size moves past them.
 */
static int ext4_iomap_zero_next(const struct iomap_iter *iter,
				struct iomap *iomap, struct iomap *srcmap)
{
	bool *zero_written = iter->private;
	int ret;

	ret = iomap_iter_next(iter, iomap, srcmap, ext4_iomap_zero_begin, NULL);
	if (ret > 0 && zero_written && iomap->type == IOMAP_MAPPED)
		*zero_written = true;
	return ret;
}

static const struct iomap_ops ext4_iomap_zero_ops = {
	.iomap_next	= ext4_iomap_zero_next,
};

/*
 * Zero [@from, @from + @length) of one block of an iomap inode, in the page
 * cache.  *@did_zero is set when a folio was zeroed, *@zero_written when the
 * block zeroed is written on disk.
 *
 * No handle may be running: iomap locks the folio, and may write back dirty
 * unwritten blocks first, and writeback locks folios before it starts a
 * handle.  i_rwsem or invalidate_lock keeps writes and faults from dirtying
 * the block again meanwhile; orphan cleanup at mount and inode eviction are
 * alone with the inode anyway.
 */
int ext4_iomap_zero_range(struct inode *inode, loff_t from, loff_t length,
			  bool *did_zero, bool *zero_written)
{
	unsigned int blkbits = inode->i_blkbits;

	if (WARN_ON_ONCE(ext4_handle_valid(journal_current_handle())))
		return -EINVAL;
	if (WARN_ON_ONCE(from >> blkbits != (from + length - 1) >> blkbits))
		return -EINVAL;
	if (!(EXT4_SB(inode->i_sb)->s_mount_state & EXT4_ORPHAN_FS) &&
	    !(inode_state_read_once(inode) & (I_NEW | I_FREEING)))
		WARN_ON_ONCE(!inode_is_locked(inode) &&
			     !rwsem_is_locked(&inode->i_mapping->invalidate_lock));

	return iomap_zero_range(inode, from, length, did_zero,
				&ext4_iomap_zero_ops, &ext4_iomap_write_ops,
				zero_written);
}

/*
 * Ordered zeroing.
 *
 * When a file grows past an old EOF that is not block aligned, the rest of
 * the old EOF block is zeroed in the page cache.  If that block is written
 * on disk, what is on disk past the old EOF (left by a shrinking truncate,
 * say) must not become file data: the zeroes have to be on disk before
 * i_disksize covers them.  The buffer_head path gets that from data=ordered.
 * Here the block is tracked (i_ordered_lblk and i_ordered_len), its write is
 * started at once, and while it is in flight i_disksize does not grow
 * (ext4_disksize_held()); the completion of the block's write clears the
 * tracker and sets i_disksize to i_size, which covers every growth held
 * back meanwhile.  Blocks allocated on this path are unwritten until their
 * own data is on disk, so a larger i_disksize can expose zeros after a
 * crash, never stale blocks.
 *
 * The ioend that carries the tracked block is tagged with it in io_private,
 * which also keeps iomap from merging it with untagged ioends at completion.
 */
#define EXT4_IOMAP_ORDERED_TAG(lblk)	((void *)((uintptr_t)(lblk) + 1))
#define EXT4_IOMAP_ORDERED_LBLK(ioend)	\
	((ext4_lblk_t)((uintptr_t)(ioend)->io_private - 1))

/* The tracked block, if there is one.  Pairs with the setter's release. */
static bool ext4_iomap_ordered(struct inode *inode, ext4_lblk_t *lblk)
{
	struct ext4_inode_info *ei = EXT4_I(inode);

	/* Pairs with the release in ext4_iomap_order_zeroed_block(). */
	if (!smp_load_acquire(&ei->i_ordered_len))
		return false;
	*lblk = READ_ONCE(ei->i_ordered_lblk);
	return true;
}

/*
 * Stop tracking @lblk.  Called when its write has completed (bio context),
 * failed, or cannot happen any more.  A later tracking of another block
 * starts only after this one is cleared, so an old ioend of @lblk must not
 * clear a newer tracker: compare the block.
 */
static void ext4_iomap_ordered_clear(struct inode *inode, ext4_lblk_t lblk)
{
	struct ext4_inode_info *ei = EXT4_I(inode);
	ext4_lblk_t tracked;

	if (!ext4_iomap_ordered(inode, &tracked) || tracked != lblk)
		return;
	/* Release: what the write did is seen once the tracker reads clear. */
	smp_store_release(&ei->i_ordered_len, 0);
}

/* The write of the tagged block @lblk completed with @err: end the hold. */
static void ext4_iomap_ordered_complete(struct inode *inode, ext4_lblk_t lblk,
					int err)
{
	trace_ext4_iomap_ordered_complete(inode, lblk, err);
	ext4_iomap_ordered_clear(inode, lblk);
}

/*
 * Move i_disksize up to @end, but not past i_size, which a truncate may have
 * lowered since the write was submitted: i_size is read under i_data_sem,
 * which ext4_set_inode_size() holds to change both sizes.  @ordered is the
 * completion of the tracked block, which ends the hold and sets i_disksize
 * to i_size; other completions leave i_disksize to it while the hold lasts.
 */
static int ext4_iomap_update_disksize(struct inode *inode, loff_t end,
				      bool ordered)
{
	struct ext4_inode_info *ei = EXT4_I(inode);
	loff_t old_disksize;
	handle_t *handle;
	bool held, grown = false;
	int err, err2;

	if (ordered)
		end = LLONG_MAX;
	if (end <= READ_ONCE(ei->i_disksize))
		return 0;

	handle = ext4_journal_start(inode, EXT4_HT_INODE, 1);
	if (IS_ERR(handle))
		return PTR_ERR(handle);
	down_write(&ei->i_data_sem);
	old_disksize = ei->i_disksize;
	held = !ordered && ext4_disksize_held(inode);
	end = min(end, i_size_read(inode));
	if (end > ei->i_disksize && !held) {
		ei->i_disksize = end;
		grown = true;
	}
	trace_ext4_iomap_disksize_update(inode, end, old_disksize, ordered,
					 held);
	up_write(&ei->i_data_sem);
	err = grown ? ext4_mark_inode_dirty(handle, inode) : 0;
	err2 = ext4_journal_stop(handle);
	return err ?: err2;
}

/*
 * The tracked block @lblk will not be written (its dirty data was dropped,
 * or mapping it for writeback failed): end the hold as its completion would,
 * so that the size changes held back are not lost.  Like data=ordered with
 * data_err=ignore, a failed write of the zeroes does not stop the size.
 */
static void ext4_iomap_ordered_abandon(struct inode *inode, ext4_lblk_t lblk)
{
	ext4_lblk_t tracked;
	int err;

	if (!ext4_iomap_ordered(inode, &tracked) || tracked != lblk)
		return;
	trace_ext4_iomap_ordered_abandon(inode, lblk, 0);
	ext4_iomap_ordered_clear(inode, lblk);
	err = ext4_iomap_update_disksize(inode, LLONG_MAX, true);
	if (err && !ext4_emergency_state(inode->i_sb))
		ext4_msg(inode->i_sb, KERN_ERR,
			 "inode %llu: cannot update the size after the zeroed block %u was dropped (error %d)",
			 inode->i_ino, lblk, err);
}

/*
 * Get the tracked block, if any, to disk and its completion done: write it
 * back if it is still dirty, and wait for its writeback, which ends only
 * after the completion work has ended the hold.  If it is still tracked
 * after that, its dirty data went away unwritten.  Called where the caller
 * can write back (no handle, no folio lock).
 */
int ext4_iomap_flush_ordered(struct inode *inode)
{
	ext4_lblk_t lblk;
	loff_t start;
	int err;

	if (!ext4_iomap_ordered(inode, &lblk))
		return 0;
	start = EXT4_LBLK_TO_B(inode, lblk);
	err = filemap_write_and_wait_range(inode->i_mapping, start,
					   start + i_blocksize(inode) - 1);
	trace_ext4_iomap_ordered_flush(inode, lblk, err);
	ext4_iomap_ordered_abandon(inode, lblk);
	return err;
}

/*
 * Flush the tracked block if it lies in [@start, @end): done before an
 * operation removes, moves or rewrites blocks there, so that the block is
 * not changed under its ordered write, and before one that sets i_disksize
 * directly.
 */
int ext4_iomap_flush_ordered_range(struct inode *inode, loff_t start,
				   loff_t end)
{
	ext4_lblk_t lblk;
	loff_t bstart;

	if (!ext4_iomap_ordered(inode, &lblk))
		return 0;
	bstart = EXT4_LBLK_TO_B(inode, lblk);
	if (bstart + i_blocksize(inode) <= start || bstart >= end)
		return 0;
	return ext4_iomap_flush_ordered(inode);
}

/* An inode leaving memory without writeback: nothing more reaches disk. */
void ext4_iomap_forget_ordered(struct inode *inode)
{
	ext4_lblk_t lblk;

	if (ext4_iomap_ordered(inode, &lblk))
		ext4_iomap_ordered_clear(inode, lblk);
}

/*
 * Called by ext4_block_zero_eof() (under i_rwsem, no handle running) after
 * zeroing the old EOF block from @from on, when that block is written on
 * disk.  Track the block and start writing it at once: the size changes
 * held back meanwhile then wait for one write, not for periodic writeback.
 *
 * Nothing is tracked when the block starts at or past i_disksize: none of
 * it is file data on disk yet, and i_disksize can only reach it through the
 * completion of a write of the block itself, which carries the zeroes.
 */
int ext4_iomap_order_zeroed_block(struct inode *inode, loff_t from)
{
	struct ext4_inode_info *ei = EXT4_I(inode);
	ext4_lblk_t lblk = from >> inode->i_blkbits;
	loff_t start = EXT4_LBLK_TO_B(inode, lblk);
	struct folio *folio;
	bool tracked = false;
	int err;

	if (start >= READ_ONCE(ei->i_disksize))
		return 0;
	/* One block is tracked at a time: finish with an older one first. */
	err = ext4_iomap_flush_ordered(inode);
	if (err)
		return err;

	folio = filemap_lock_folio(inode->i_mapping, from >> PAGE_SHIFT);
	if (IS_ERR(folio))
		return PTR_ERR(folio) == -ENOENT ? 0 : PTR_ERR(folio);
	/*
	 * Tracking starts with the folio locked, dirty and not under
	 * writeback, so the next write of the block is tagged when it is
	 * submitted.  A folio that is clean by now was written back, zeroes
	 * included, after the zeroing.
	 */
	folio_wait_writeback(folio);
	if (folio_test_dirty(folio)) {
		WRITE_ONCE(ei->i_ordered_lblk, lblk);
		/* Pairs with ext4_iomap_ordered(): the block before the length. */
		smp_store_release(&ei->i_ordered_len, 1);
		tracked = true;
	}
	folio_unlock(folio);
	folio_put(folio);
	if (!tracked)
		return 0;

	err = filemap_fdatawrite_range(inode->i_mapping, start,
				       start + i_blocksize(inode) - 1);
	trace_ext4_iomap_ordered_track(inode, lblk, err);
	if (err)
		ext4_iomap_ordered_abandon(inode, lblk);
	return err;
}

/* Whether @ioend writes the tracked block, and which block that is. */
static bool ext4_iomap_ioend_ordered(struct iomap_ioend *ioend,
				     ext4_lblk_t *lblk)
{
	struct inode *inode = ioend->io_inode;

	return ext4_iomap_ordered(inode, lblk) &&
	       (ioend->io_offset >> inode->i_blkbits) <= *lblk &&
	       *lblk < EXT4_B_TO_LBLK(inode,
				      ioend->io_offset + ioend->io_size);
}

/*
 * Delayed allocation unless the mount has it off, or free space is so low
 * that reservations could fail where allocations still succeed.  To be
 * called before any folio is locked: ext4_nonda_switch() may start
 * writeback.
 */
static const struct iomap_ops *ext4_iomap_write_ops_for(struct inode *inode)
{
	if (test_opt(inode->i_sb, DELALLOC) && !ext4_nonda_switch(inode->i_sb))
		return &ext4_iomap_delalloc_ops;
	return &ext4_iomap_alloc_ops;
}

/* Buffered write of an iomap inode.  Called with i_rwsem held for write. */
ssize_t ext4_iomap_buffered_write(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);

	return iomap_file_buffered_write(iocb, from,
					 ext4_iomap_write_ops_for(inode),
					 &ext4_iomap_write_ops, NULL);
}

/*
 * How many blocks to map for writeback at @offset: the dirty blocks there, or
 * up to the end of the writeback range when that goes further, so that one
 * allocation covers what this writeback pass is about to write instead of
 * one folio at a time; ext4_map_blocks() trims the request to the delayed
 * extent it finds.  Computed in 64 bits, since a range may end past 2^32
 * blocks.
 */
static unsigned int ext4_iomap_writeback_len(struct inode *inode,
					     loff_t offset,
					     unsigned int dirty_len,
					     loff_t range_end)
{
	unsigned int blkbits = inode->i_blkbits;
	u64 first = offset >> blkbits;
	u64 last = max_t(u64, (offset + dirty_len - 1) >> blkbits,
			 (u64)range_end >> blkbits);

	last = min_t(u64, last, EXT4_MAX_LOGICAL_BLOCK);
	return min_t(u64, last - first + 1, MAX_WRITEPAGES_EXTENT_LEN);
}

/*
 * Allocate the delayed blocks at @map as unwritten extents, against the
 * reservation they hold.  That should not run out of space; when it does,
 * blocks freed in the running transaction may be what is missing (they are
 * reusable only once it commits), so force a commit and retry as long as
 * the filesystem has free clusters, as the buffer_head path does.
 */
static int ext4_iomap_alloc_delayed(struct inode *inode,
				    struct ext4_map_blocks *map)
{
	struct super_block *sb = inode->i_sb;
	journal_t *journal = EXT4_SB(sb)->s_journal;
	struct ext4_map_blocks req = *map;
	int ret;

	for (;;) {
		trace_ext4_da_write_pages_extent(inode, map);
		ret = ext4_map_blocks(NULL, inode, map,
				      EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT |
				      EXT4_GET_BLOCKS_METADATA_NOFAIL |
				      EXT4_GET_BLOCKS_IO_SUBMIT |
				      EXT4_GET_BLOCKS_START_HANDLE |
				      EXT4_EX_NOCACHE);
		if (ret != -ENOSPC || !journal || ext4_emergency_state(sb) ||
		    !ext4_count_free_clusters(sb))
			break;
		jbd2_journal_force_commit_nested(journal);
		*map = req;
	}
	if (ret < 0 && !ext4_emergency_state(sb)) {
		ext4_msg(sb, KERN_CRIT,
			 "Delayed block allocation failed for inode %llu at logical offset %llu with max blocks %u with error %d",
			 inode->i_ino, (unsigned long long)req.m_lblk,
			 req.m_len, -ret);
		ext4_msg(sb, KERN_CRIT,
			 "This should not happen!! Data will be lost\n");
		if (ret == -ENOSPC)
			ext4_print_free_blocks(inode);
	}
	return ret < 0 ? ret : 0;
}

/*
 * Map the dirty range at @offset for writeback, into @wpc->iomap.  Called
 * with the folio locked and under writeback, and no handle running: a handle
 * is started, inside ext4_map_blocks(), only to allocate delayed blocks.
 * The cached mapping is reused while it covers @offset and the extent status
 * tree has not changed (a punch or a truncate in between changes it).
 */
static int ext4_iomap_map_writeback_range(struct iomap_writepage_ctx *wpc,
					  loff_t offset, unsigned int dirty_len)
{
	struct inode *inode = wpc->inode;
	struct ext4_map_blocks map;
	int ret;

	KUNIT_STATIC_STUB_REDIRECT(ext4_iomap_map_writeback_range, wpc, offset,
				   dirty_len);
	ret = ext4_emergency_state(inode->i_sb);
	if (unlikely(ret))
		return ret;

	if (offset >= wpc->iomap.offset &&
	    offset < wpc->iomap.offset + wpc->iomap.length &&
	    ext4_iomap_valid(inode, &wpc->iomap))
		return 0;

	map.m_lblk = offset >> inode->i_blkbits;
	map.m_len = ext4_iomap_writeback_len(inode, offset, dirty_len,
					     wpc->wbc->range_end);
	ret = ext4_map_blocks(NULL, inode, &map,
			      EXT4_GET_BLOCKS_IO_SUBMIT | EXT4_EX_NOCACHE);
	if (ret >= 0 && (map.m_flags & EXT4_MAP_DELAYED))
		ret = ext4_iomap_alloc_delayed(inode, &map);
	if (ret < 0)
		return ret;

	/*
	 * A dirty block can be a hole: a write fault dirties the whole EOF
	 * folio (iomap_dirty_folio()) but maps it only up to EOF, and when
	 * the file grows past those blocks, pagecache_isize_extended() zeroes
	 * them and they are inside EOF, dirty, over a hole.  They read as
	 * zeros either way: iomap skips a hole.
	 */
	trace_ext4_iomap_map_writeback_range(inode, offset, dirty_len, &map);
	ext4_iomap_from_map(inode, &wpc->iomap, &map, offset, dirty_len, 0);
	return 0;
}

/*
 * The dirty data of the folio from @pos on will not be written (iomap clears
 * its dirty bits after a failure): give back the delayed blocks under it, or
 * their reservation would stay until the inode is evicted.
 */
static void ext4_iomap_discard_folio(struct folio *folio, loff_t pos)
{
	struct inode *inode = folio->mapping->host;
	loff_t end = folio_pos(folio) + folio_size(folio);
	ext4_lblk_t lblk;

	ext4_iomap_punch_delalloc(inode, pos, end - pos, NULL);
	/* The tracked block among them will not be written either. */
	if (ext4_iomap_ordered(inode, &lblk) &&
	    EXT4_LBLK_TO_B(inode, lblk) >= round_down(pos, i_blocksize(inode)) &&
	    EXT4_LBLK_TO_B(inode, lblk) < end)
		ext4_iomap_ordered_abandon(inode, lblk);
}

static ssize_t ext4_iomap_writeback_range(struct iomap_writepage_ctx *wpc,
					  struct folio *folio, u64 offset,
					  unsigned int len, u64 end_pos)
{
	ssize_t ret;

	ret = ext4_iomap_map_writeback_range(wpc, offset, len);
	if (!ret)
		ret = iomap_add_to_ioend(wpc, folio, offset, end_pos, len);
	if (ret < 0)
		ext4_iomap_discard_folio(folio, offset);
	return ret;
}

/*
 * Whether the completion of @ioend needs a transaction, which bio completion
 * context cannot start: unwritten extents to convert, or i_disksize to move
 * up.  With data_err=abort every write may have to abort the journal.
 */
static bool ext4_iomap_ioend_needs_work(struct iomap_ioend *ioend)
{
	struct inode *inode = ioend->io_inode;

	if (ioend->io_flags & IOMAP_IOEND_UNWRITTEN)
		return true;
	if (ioend->io_offset + ioend->io_size >
	    READ_ONCE(EXT4_I(inode)->i_disksize))
		return true;
	return test_opt(inode->i_sb, DATA_ERR_ABORT);
}

/*
 * The writes of one ext4_iomap_writepages() call that need the completion
 * work and completed before their submit_bio() returned, as brd, zram or
 * pmem complete them.  The caller finishes them itself once it has
 * submitted everything, merged into as few conversions and size updates as
 * possible, as the buffer_head path finishes an io_end whose last reference
 * it drops after submission.  Through the work, each bio's write would be
 * finished on its own, by a worker woken for it that then competes with the
 * submission for i_data_sem and the journal.  Completions that come after
 * the submission, from an interrupt, still go to the work.
 */
struct ext4_iomap_wb_batch {
	struct list_head	ioends;		/* completed, to be finished */
	size_t			bytes;		/* their length */
	unsigned int		nr;		/* and number */
};

/*
 * At most this many writes wait in a batch: fewer than iomap's ioend bio
 * pool keeps in reserve (4 * PAGE_SIZE / SECTOR_SIZE, at least 32), so that
 * the writeback call never waits for a bio of its own pool that only it
 * would give back, when every write is a few scattered blocks.
 */
#define EXT4_IOMAP_BATCH_MAX	16

struct ext4_iomap_wpc {
	struct iomap_writepage_ctx	ctx;
	struct ext4_iomap_wb_batch	batch;
};

/* Make sure the completion work runs.  Called under i_completed_io_lock. */
static void ext4_iomap_wake_work(struct ext4_inode_info *ei)
{
	lockdep_assert_held(&ei->i_completed_io_lock);
	if (list_empty(&ei->i_rsv_conversion_list))
		queue_work(EXT4_SB(ei->vfs_inode.i_sb)->rsv_conversion_wq,
			   &ei->i_rsv_conversion_work);
}

/*
 * Catch the completion of @ioend in @batch until ext4_iomap_batch_close().
 * The bio's bi_private, which iomap leaves to the filesystem, points to the
 * batch meanwhile: no inode field is needed, and each writeback call only
 * ever holds back its own writes, which nothing it waits for depends on.
 */
static void ext4_iomap_batch_open(struct ext4_iomap_wb_batch *batch,
				  struct iomap_ioend *ioend)
{
	ioend->io_bio.bi_private = batch;
}

/*
 * Stop catching the completion of @ioend, which is in flight or in @batch
 * (nothing else frees it before one of the two has ended).  The completion
 * reads bi_private under i_completed_io_lock, so it either comes before
 * this and is caught, or after and goes to the work.  The writes caught
 * stay under writeback until the call finishes them: once they cover as
 * much as one writeback mapping does (also the unit of the buffer_head
 * path's io_end), or are EXT4_IOMAP_BATCH_MAX writes, hand them to the
 * work, which merges them just the same.
 * The caller may hold a folio lock here, under which a completion must not
 * start a transaction.
 */
static void ext4_iomap_batch_close(struct ext4_iomap_wb_batch *batch,
				   struct iomap_ioend *ioend)
{
	struct inode *inode = ioend->io_inode;
	struct ext4_inode_info *ei = EXT4_I(inode);

	spin_lock_irq(&ei->i_completed_io_lock);
	ioend->io_bio.bi_private = NULL;
	if (batch->bytes >= EXT4_LBLK_TO_B(inode, MAX_WRITEPAGES_EXTENT_LEN) ||
	    batch->nr >= EXT4_IOMAP_BATCH_MAX) {
		ext4_iomap_wake_work(ei);
		list_splice_tail_init(&batch->ioends,
				      &ei->i_rsv_conversion_list);
		batch->bytes = 0;
		batch->nr = 0;
	}
	spin_unlock_irq(&ei->i_completed_io_lock);
}

/*
 * Queue the completed write to the writeback call submitting it, or to the
 * inode's completion work.  The inode's i_rsv_conversion_list and _work
 * serve both paths: the buffer_head path queues its io_ends there, and an
 * inode is on one path only.
 */
static void ext4_iomap_write_done(struct bio *bio)
{
	struct iomap_ioend *ioend = iomap_ioend_from_bio(bio);
	struct inode *inode = ioend->io_inode;
	struct ext4_inode_info *ei = EXT4_I(inode);
	struct ext4_iomap_wb_batch *batch;
	unsigned long flags;

	/*
	 * The tracked block is on disk (or failed): the hold ends here, not
	 * in the work, so that nothing waiting for the work waits for this.
	 */
	if (ioend->io_private)
		ext4_iomap_ordered_complete(inode, EXT4_IOMAP_ORDERED_LBLK(ioend),
					    blk_status_to_errno(bio->bi_status));

	spin_lock_irqsave(&ei->i_completed_io_lock, flags);
	batch = bio->bi_private;
	if (batch) {
		list_add_tail(&ioend->io_list, &batch->ioends);
		batch->bytes += ioend->io_size;
		batch->nr++;
	} else {
		ext4_iomap_wake_work(ei);
		list_add_tail(&ioend->io_list, &ei->i_rsv_conversion_list);
	}
	spin_unlock_irqrestore(&ei->i_completed_io_lock, flags);
}

static void ext4_iomap_end_bio(struct bio *bio)
{
	KUNIT_STATIC_STUB_REDIRECT(ext4_iomap_end_bio, bio);
	ext4_iomap_write_done(bio);
}

/*
 * A write whose completion needs a transaction is completed wholly by the
 * inode's completion work, or by this writeback call when it completes
 * during its submission (struct ext4_iomap_wb_batch), never partly in bio
 * context: filesystems do not get to call iomap_finish_ioend() from there.
 * Other writes keep iomap's own completion.  The block layer need not move
 * such a completion to a task first (BIO_COMPLETE_IN_TASK, for dropbehind
 * folios): both finish it in a task.
 * A failed submission keeps iomap's completion too: nothing was written, so
 * there is nothing to convert and no size to move.
 */
static int ext4_iomap_writeback_submit(struct iomap_writepage_ctx *wpc,
				       int error)
{
	struct ext4_iomap_wb_batch *batch =
		&container_of(wpc, struct ext4_iomap_wpc, ctx)->batch;
	struct iomap_ioend *ioend = wpc->wb_ctx;
	bool caught = false;
	ext4_lblk_t lblk;
	int ret;

	/*
	 * The write of the tracked block is tagged, and completed by the
	 * work even when it failed to submit: its completion ends the hold
	 * on i_disksize in any case.
	 */
	if (ext4_iomap_ioend_ordered(ioend, &lblk)) {
		ioend->io_private = EXT4_IOMAP_ORDERED_TAG(lblk);
		trace_ext4_iomap_ordered_submit(ioend->io_inode, lblk, error);
	}
	if (ioend->io_private ||
	    (!error && ext4_iomap_ioend_needs_work(ioend))) {
		ioend->io_bio.bi_end_io = ext4_iomap_end_bio;
		bio_clear_flag(&ioend->io_bio, BIO_COMPLETE_IN_TASK);
		ext4_iomap_batch_open(batch, ioend);
		caught = true;
	}
	ret = iomap_ioend_writeback_submit(wpc, error);
	if (caught)
		ext4_iomap_batch_close(batch, ioend);
	return ret;
}

static const struct iomap_writeback_ops ext4_iomap_writeback_ops = {
	.writeback_range	= ext4_iomap_writeback_range,
	.writeback_submit	= ext4_iomap_writeback_submit,
};

/*
 * Finish a completed write in process context: once its data is on disk,
 * its unwritten extents become written and i_disksize covers it.  After an
 * I/O error neither happens (the blocks keep reading as before), and with
 * data_err=abort the journal is aborted.
 */
static void ext4_iomap_finish_ioend(struct iomap_ioend *ioend)
{
	struct inode *inode = ioend->io_inode;
	struct super_block *sb = inode->i_sb;
	bool ordered = ioend->io_private;
	loff_t pos = ioend->io_offset;
	int err;

	err = blk_status_to_errno(ioend->io_bio.bi_status);
	if (unlikely(err)) {
		if (test_opt(sb, DATA_ERR_ABORT) && !ext4_emergency_state(sb))
			jbd2_journal_abort(EXT4_SB(sb)->s_journal, err);
		/* The size changes held back by the tracked block go on. */
		if (ordered && !ext4_emergency_state(sb))
			ext4_iomap_update_disksize(inode, LLONG_MAX, true);
		goto out;
	}
	err = ext4_emergency_state(sb);
	if (unlikely(err))
		goto out;

	if (ioend->io_flags & IOMAP_IOEND_UNWRITTEN)
		err = ext4_convert_unwritten_extents(NULL, inode, pos,
						     ioend->io_size, NULL);
	if (!err)
		err = ext4_iomap_update_disksize(inode, pos + ioend->io_size,
						 ordered);
	if (err && !ext4_emergency_state(sb))
		ext4_msg(sb, KERN_EMERG,
			 "failed to convert unwritten extents or update the size of inode %llu after writing %zu bytes at %lld (error %d): data may be lost",
			 inode->i_ino, ioend->io_size, pos, err);
out:
	iomap_finish_ioends(ioend, err);
}

/*
 * Finish the completed writes on @ioends, in file order, merging neighbours
 * that need the same work so that they convert and update the size once.
 * Called in process context, with no handle running and no folio locked.
 */
static void ext4_iomap_finish_ioends(struct list_head *ioends)
{
	struct iomap_ioend *ioend;

	iomap_sort_ioends(ioends);
	while ((ioend = list_first_entry_or_null(ioends, struct iomap_ioend,
						 io_list))) {
		list_del_init(&ioend->io_list);
		iomap_ioend_try_merge(ioend, ioends);
		ext4_iomap_finish_ioend(ioend);
		cond_resched();
	}
}

/* The completion work of an iomap inode: finish its completed writes. */
void ext4_iomap_end_io(struct ext4_inode_info *ei)
{
	struct list_head ioends;
	unsigned long flags;

	spin_lock_irqsave(&ei->i_completed_io_lock, flags);
	list_replace_init(&ei->i_rsv_conversion_list, &ioends);
	spin_unlock_irqrestore(&ei->i_completed_io_lock, flags);

	ext4_iomap_finish_ioends(&ioends);
}

/*
 * Writeback of an iomap inode.  The writes that completed during their own
 * submission are finished here, once iomap has submitted the last one
 * (struct ext4_iomap_wb_batch).
 */
int ext4_iomap_writepages(struct address_space *mapping,
			  struct writeback_control *wbc)
{
	struct inode *inode = mapping->host;
	struct super_block *sb = inode->i_sb;
	long nr_to_write = wbc->nr_to_write;
	struct ext4_iomap_wpc wpc = {
		.ctx = {
			.inode	= inode,
			.wbc	= wbc,
			.ops	= &ext4_iomap_writeback_ops,
		},
		.batch.ioends = LIST_HEAD_INIT(wpc.batch.ioends),
	};
	int alloc_ctx, ret;

	if (WARN_ON_ONCE(!ext4_inode_buffered_iomap(inode)))
		return -EINVAL;
	ret = ext4_emergency_state(sb);
	if (unlikely(ret))
		return ret;

	/* Excludes a change of the inode's journalling mode or format. */
	alloc_ctx = ext4_writepages_down_read(sb);
	trace_ext4_writepages(inode, wbc);
	ret = iomap_writepages(&wpc.ctx);
	trace_ext4_writepages_result(inode, wbc, ret,
				     nr_to_write - wbc->nr_to_write);
	/* No folio locked now: the writes caught can be finished. */
	ext4_iomap_finish_ioends(&wpc.batch.ioends);
	ext4_writepages_up_read(sb, alloc_ctx);
	return ret;
}

/*
 * Write fault on an iomap inode.  Called with invalidate_lock held shared.
 * iomap_page_mkwrite() locks the folio and then maps it with IOMAP_WRITE |
 * IOMAP_FAULT, so an allocation starts its handle under the folio lock, as
 * in writeback.  The delayed allocation ->iomap_end never punches for a
 * fault: a fault that reserved blocks always dirties the folio over them.
 */
vm_fault_t ext4_iomap_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);

	return iomap_page_mkwrite(vmf, ext4_iomap_write_ops_for(inode), NULL);
}

#if IS_ENABLED(CONFIG_EXT4_KUNIT_TESTS)
/*
 * For the KUnit I/O tests, which are always built in (EXT4_KUNIT_IO_TESTS):
 * the functions that they replace with static stubs (to hold a write's
 * completion, or to fail a mapping), and call.  The pointers are the
 * functions' own addresses, which the stubs are keyed on.
 */
void (*const ext4_iomap_end_bio_test)(struct bio *bio) = ext4_iomap_end_bio;
void (*const ext4_iomap_write_done_test)(struct bio *bio) =
	ext4_iomap_write_done;
int (*const ext4_iomap_map_writeback_range_test)(struct iomap_writepage_ctx *wpc,
						 loff_t offset,
						 unsigned int dirty_len) =
	ext4_iomap_map_writeback_range;

unsigned int ext4_iomap_writeback_len_test(struct inode *inode, loff_t offset,
					   unsigned int dirty_len,
					   loff_t range_end)
{
	return ext4_iomap_writeback_len(inode, offset, dirty_len, range_end);
}
#endif
